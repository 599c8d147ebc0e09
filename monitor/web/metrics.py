"""/metrics in Prometheus' text format and /healthz for orchestrators.

The only user of prometheus-client. The numbers are read from the database at each scrape
(monitor.store.metrics), so `monitor web` and a daemon serving the dashboard report the
same. Old rows are pruned (`retention:`), so nothing here is a counter: stored items and
matches are gauges, and polls and their durations cover the last hour (a gauge and a gauge
histogram: read them as they are, not with rate()).
"""

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from monitor import store
from monitor.errors import StoreError
from monitor.web.desk import desk_of

WINDOW = timedelta(hours=1)
BUCKETS_MS = (50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000)


class StoreCollector(Collector):
    """Reads `store.scrape_numbers` when Prometheus scrapes."""

    def __init__(self, db: store.Database, clock: Callable[[], datetime]) -> None:
        self.db, self.clock = db, clock

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        numbers = store.scrape_numbers(self.db, now - WINDOW, BUCKETS_MS)
        polls = GaugeMetricFamily(
            "monitor_polls_last_hour",
            "Polls started in the last hour, by outcome",
            labels=["outcome"],
        )
        for outcome in ("ok", "not-modified", "unchanged", "error", "gone"):
            polls.add_metric([outcome], numbers.polls.get(outcome, 0))
        yield polls
        buckets = [(f"{ms / 1000:g}", float(n)) for ms, n in numbers.duration_buckets]
        yield GaugeHistogramMetricFamily(
            "monitor_poll_duration_seconds",
            "How long the polls of the last hour took",
            buckets=[*buckets, ("+Inf", float(numbers.duration_count))],
            gsum_value=numbers.duration_sum_ms / 1000,
        )
        yield _labelled("monitor_items_stored", "Stored items", "feed", numbers.items)
        yield _labelled("monitor_matches_stored", "Stored matches", "rule", numbers.matches)
        deliveries = {s: numbers.deliveries.get(s, 0) for s in ("pending", "sent", "dead")}
        yield _labelled(
            "monitor_deliveries",
            "Alert deliveries by status",
            "status",
            {**deliveries, **numbers.deliveries},
        )
        yield GaugeMetricFamily(
            "monitor_outbox_depth",
            "Deliveries waiting to be sent (pending)",
            value=numbers.deliveries.get("pending", 0),
        )
        age = GaugeMetricFamily(
            "monitor_feed_last_success_age_seconds",
            "Seconds since each feed's last good poll (feeds never polled well are absent)",
            labels=["feed"],
        )
        up = GaugeMetricFamily(
            "monitor_feed_up", "1 when the feed's last poll went well", labels=["feed"]
        )
        failures = GaugeMetricFamily(
            "monitor_feed_consecutive_failures", "Failed polls in a row", labels=["feed"]
        )
        for feed in numbers.feeds:
            if feed.last_success_at is not None:
                age.add_metric([feed.name], max(0.0, (now - feed.last_success_at).total_seconds()))
            up.add_metric([feed.name], 1.0 if feed.status == "ok" else 0.0)
            failures.add_metric([feed.name], feed.failures)
        yield from (age, up, failures)


def registry_for(db: store.Database, clock: Callable[[], datetime]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StoreCollector(db, clock))
    return registry


async def metrics(request: Request) -> Response:
    registry: CollectorRegistry = request.app.state.registry
    try:
        body = await run_in_threadpool(generate_latest, registry)
    except StoreError as exc:
        return Response(f"# database unavailable: {exc}\n", status_code=503)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


async def healthz(request: Request) -> Response:
    """200 when polling is healthy (a daemon beat recently, no feed overdue, not every feed
    failing: the verdict of `monitor health`), 503 with the reasons otherwise."""
    desk = desk_of(request)
    stale = max(timedelta(minutes=2), desk.settings.schedule.tick * 4)

    def verdict() -> tuple[int, dict[str, object]]:
        if not desk.db.is_current():
            return 503, {"healthy": False, "problems": ["database schema is not current"]}
        health = store.check_health(desk.db, desk.clock(), stale)
        body: dict[str, object] = {
            "healthy": health.healthy,
            "problems": list(health.problems),
            "daemons": len(health.daemons),
            "feeds_ok": health.feeds_ok,
            "feeds_failing": health.feeds_failing,
            "feeds_overdue": health.feeds_overdue,
        }
        return (200 if health.healthy else 503), body

    try:
        status, body = await run_in_threadpool(verdict)
    except StoreError as exc:
        status, body = 503, {"healthy": False, "problems": [str(exc)]}
    return JSONResponse(body, status_code=status, headers={"cache-control": "no-store"})


def _labelled(name: str, help_text: str, label: str, values: dict[str, int]) -> Metric:
    metric = GaugeMetricFamily(name, help_text, labels=[label])
    for key, value in sorted(values.items()):
        metric.add_metric([key], value)
    return metric


ROUTES = [Route("/metrics", metrics), Route("/healthz", healthz)]
