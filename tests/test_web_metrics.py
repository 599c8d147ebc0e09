"""/metrics read back with prometheus-client's own parser, against what the store holds;
/healthz as an orchestrator sees it."""

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from monitor import store
from monitor.alerts.stories import StoryFiling
from monitor.model import PollResult
from monitor.store import Database
from monitor.web import create_app
from tests.webdata import ARMS, NOW, PACT, Browser, fill, rules, web_settings

SCRAPE = NOW + timedelta(minutes=20)


def poll(db: Database, feed: str, *, ms: int, outcome: str = "ok") -> None:
    [state] = store.claim_due_feeds(db, "t", NOW, timedelta(minutes=5), 1, [feed])
    store.save_poll(
        db,
        PollResult(
            feed_id=state.id,
            started_at=NOW,
            finished_at=NOW + timedelta(milliseconds=ms),
            outcome=outcome,  # type: ignore[arg-type]
            next_poll_at=NOW + timedelta(minutes=15),
            error_kind="http" if outcome == "error" else None,
            error="HTTP 500" if outcome == "error" else None,
        ),
        "t",
        StoryFiling(),
    )


@pytest.fixture
def scraped(db: Database) -> tuple[Database, dict[str, dict[tuple[str, ...], float]]]:
    fill(db)
    poll(db, "wire-a", ms=300)
    poll(db, "wire-b", ms=2400, outcome="error")
    ruleset = rules()
    app = create_app(web_settings(), db, token=None, rules=lambda: ruleset, clock=lambda: SCRAPE)
    answer = Browser(app).get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    samples: dict[str, dict[tuple[str, ...], float]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            key = tuple(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples.setdefault(sample.name, {})[key] = sample.value
    return db, samples


def test_items_and_matches_are_counted_per_feed_and_rule(
    scraped: tuple[Database, dict[str, dict[tuple[str, ...], float]]],
) -> None:
    db, samples = scraped
    feeds = {f.name: f.items for f in store.list_feeds(db)}
    per_rule = {
        rule: len(store.match_page(db, store.MatchFilter(rule=rule), limit=10_000).rows)
        for rule in (ARMS, PACT)
    }

    assert samples["monitor_items_stored"] == {(f"feed={k}",): v for k, v in feeds.items()}
    assert samples["monitor_matches_stored"] == {(f"rule={k}",): v for k, v in per_rule.items()}


def test_polls_by_outcome_and_their_durations_cover_the_last_hour(
    scraped: tuple[Database, dict[str, dict[tuple[str, ...], float]]],
) -> None:
    _, samples = scraped

    polls = samples["monitor_polls_last_hour"]
    buckets = samples["monitor_poll_duration_seconds_bucket"]

    assert polls[("outcome=ok",)] == 1 and polls[("outcome=error",)] == 1  # older: outside
    assert polls[("outcome=gone",)] == 0
    assert buckets[("le=0.25",)] == 0 and buckets[("le=0.5",)] == 1
    assert buckets[("le=2.5",)] == 2 and buckets[("le=+Inf",)] == 2
    assert samples["monitor_poll_duration_seconds_gcount"][()] == 2
    assert samples["monitor_poll_duration_seconds_gsum"][()] == pytest.approx(2.7)


def test_deliveries_outbox_depth_and_feed_freshness(
    scraped: tuple[Database, dict[str, dict[tuple[str, ...], float]]],
) -> None:
    db, samples = scraped
    counts = store.delivery_counts(db)

    deliveries = samples["monitor_deliveries"]

    assert deliveries[("status=dead",)] == 1 == counts["dead"]
    assert deliveries[("status=pending",)] == counts["pending"] > 0
    assert deliveries[("status=sent",)] == 0
    assert samples["monitor_outbox_depth"][()] == counts["pending"]
    age = samples["monitor_feed_last_success_age_seconds"]
    # polled well just now (the poll ended 300 ms after it started)
    assert age[("feed=wire-a",)] == (SCRAPE - NOW - timedelta(milliseconds=300)).total_seconds()
    [b] = [f for f in store.list_feeds(db) if f.name == "wire-b"]  # failing now
    assert b.last_success_at is not None and b.last_success_at < NOW
    assert age[("feed=wire-b",)] == (SCRAPE - b.last_success_at).total_seconds()
    assert samples["monitor_feed_up"] == {("feed=wire-a",): 1.0, ("feed=wire-b",): 0.0}
    assert samples["monitor_feed_consecutive_failures"][("feed=wire-b",)] == 1


def test_healthz_needs_a_daemon_heartbeat_and_feeds_on_time(db: Database) -> None:
    fill(db)
    poll(db, "wire-a", ms=100)
    poll(db, "wire-b", ms=100)
    later = NOW + timedelta(minutes=5)
    app = create_app(web_settings(), db, token=None, clock=lambda: later)

    without = Browser(app).get("/healthz")
    store.beat(db, "daemon-1", "host", 1, "0.1.0", later)
    with_beat = Browser(app).get("/healthz")
    overdue = create_app(web_settings(), db, token=None, clock=lambda: later + timedelta(hours=1))

    assert without.status_code == 503
    assert without.json()["problems"] == ["no daemon heartbeat within 120s"]
    assert with_beat.status_code == 200 and with_beat.json()["healthy"] is True
    assert with_beat.json()["feeds_ok"] == 2 and with_beat.json()["daemons"] == 1
    stale = Browser(overdue).get("/healthz")
    assert stale.status_code == 503 and "overdue" in " ".join(stale.json()["problems"])
