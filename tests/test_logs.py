"""Log lines: the fixed fields (time, level, logger, msg) cannot be replaced by extra fields."""

import asyncio
import json
import logging
import re
from datetime import timedelta
from pathlib import Path

import pytest

from monitor import store
from monitor.app import open_app
from monitor.engine.rulebook import RuleBook
from monitor.logs import JsonFormatter, KeyValueFormatter
from monitor.pipeline import poll_feed
from monitor.settings import FeedConfig, Settings
from monitor.store import Database
from tests.conftest import RULES_DIR
from tests.feedserver import FeedServer
from tests.test_alerts import START, Clock, serve


def _record(exc_info: bool = False, **extra: object) -> logging.LogRecord:
    if not exc_info:
        return logging.getLogger("monitor.test").makeRecord(
            "monitor.test", logging.INFO, __file__, 1, "match", (), None, extra=extra
        )
    try:
        raise ValueError("boom")
    except ValueError as exc:
        info = (type(exc), exc, exc.__traceback__)
    return logging.getLogger("monitor.test").makeRecord(
        "monitor.test", logging.ERROR, __file__, 1, "failed", (), info, extra=extra
    )


_PAIR = re.compile(r'([\w.]+)=("(?:[^"\\]|\\.)*"|\S*)')


def _key_values(line: str) -> dict[str, str]:
    """Parse a key=value line the way a log shipper would (quoted values are JSON strings)."""
    pairs = _PAIR.findall(line)
    assert " ".join(f"{k}={v}" for k, v in pairs) == line
    return {k: json.loads(v) if v.startswith('"') else v for k, v in pairs}


def test_an_extra_level_field_never_replaces_the_log_level() -> None:
    record = _record(level="high", logger="y", time="z", rule="r")

    text = _key_values(KeyValueFormatter().format(record))
    data = json.loads(JsonFormatter().format(record))

    for line in (text, data):
        assert line["level"] == "info" and line["msg"] == "match"
        assert line["logger"] == "monitor.test" and line["time"] != "z"
        assert line["extra_level"] == "high" and line["extra_logger"] == "y"
        assert line["rule"] == "r"


def test_a_traceback_does_not_hide_an_error_field() -> None:
    record = _record(exc_info=True, error="HTTP 404")

    data = json.loads(JsonFormatter().format(record))

    assert data["error"] == "HTTP 404" and "ValueError: boom" in data["exception"]
    assert "ValueError: boom" in json.loads(JsonFormatter().format(_record(True)))["error"]


def test_the_match_log_line_keeps_the_log_level_and_names_the_rule_level(
    tmp_path: Path, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(f"sqlite:///{tmp_path}/monitor.db")
    db.upgrade()
    url = serve(feed_server, ("m1", "Alphaland ships artillery to Betania"))
    settings = Settings(feeds=(FeedConfig(name="f0", url=url, interval=timedelta(minutes=10)),))
    clock = Clock()
    rules = RuleBook(RULES_DIR, RULES_DIR / "seeds", lambda: START.date())

    async def go() -> None:
        async with open_app(settings, db=db, clock=clock, rules=rules) as app:
            store.sync_feeds(db, settings.feeds, clock.now)
            [state] = store.claim_due_feeds(db, app.owner, clock.now, timedelta(minutes=5), 1)
            await poll_feed(app, settings.feed("f0"), state)

    with caplog.at_level(logging.INFO, logger="monitor.pipeline"):
        asyncio.run(go())
    db.dispose()

    [match] = [r for r in caplog.records if r.getMessage() == "match"]
    line = _key_values(KeyValueFormatter().format(match))
    assert line["level"] == "info" and line["rule_level"] == "high"
    assert line["rule"] == "alp-bet-arms" and "extra_level" not in line
