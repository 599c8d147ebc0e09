# monitor daemon image. Build: docker build -t monitor .  Run: see docker-compose.yml
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

COPY pyproject.toml README.md ./
COPY monitor ./monitor
RUN pip install . && useradd --system --uid 10001 --home-dir /app monitor \
    && mkdir -p /app/data && chown monitor /app/data

# Config, rules and seeds side by side, as in the checkout: relative paths in monitor.yaml
# are read from its folder. docker-compose.yml mounts the host's copies over these.
COPY monitor.yaml ./monitor.yaml
COPY rules ./rules
COPY seeds ./seeds
ENV MONITOR_CONFIG=/app/monitor.yaml

USER monitor
# No VOLUME here: an anonymous volume would be left behind by every `docker run` and
# `docker compose up`; compose gives /app/data a named volume, `docker run` takes -v.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 CMD ["monitor", "health"]
ENTRYPOINT ["monitor"]
CMD ["run"]
