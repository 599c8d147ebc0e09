"""Log lines as key=value (default) or JSON. Extra fields come from `extra={...}`."""

import json
import logging
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# The fields every line starts with; an extra field of the same name is shown as extra_NAME,
# so `extra={"level": "high"}` can never pass for the log level.
_RESERVED = frozenset({"time", "level", "logger", "msg"})


def _line(record: logging.LogRecord, exception: str | None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "time": _time(record),
        "level": record.levelname.lower(),
        "logger": record.name,
        "msg": record.getMessage(),
    }
    for key, value in vars(record).items():
        if key not in _STANDARD:
            line[f"extra_{key}" if key in _RESERVED else key] = value
    if exception is not None:  # a traceback never hides an `error` field, nor the reverse
        line["exception" if "error" in line else "error"] = exception
    return line


def _time(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


def _quote(value: Any) -> str:
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    if text == "" or any(c in text for c in ' "=\n\t'):
        return json.dumps(text, ensure_ascii=False)
    return text


class KeyValueFormatter(logging.Formatter):
    """`time=… level=info logger=monitor.pipeline msg="poll done" feed=x new=3`."""

    def format(self, record: logging.LogRecord) -> str:
        exception = self.formatException(record.exc_info) if record.exc_info else None
        return " ".join(f"{k}={_quote(v)}" for k, v in _line(record, exception).items())


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        exception = self.formatException(record.exc_info) if record.exc_info else None
        return json.dumps(_line(record, exception), ensure_ascii=False, default=str)


def configure_logging(fmt: str, level: str) -> None:
    """Send monitor's logs to stderr in `fmt` ("text" or "json") at `level`."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("monitor").setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
