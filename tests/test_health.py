"""Feed health notices: when a failing feed is reported down, and back, exactly once each."""

from datetime import UTC, datetime, timedelta

import pytest

from monitor.alerts.health import health_changes
from monitor.store import FeedHealth

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def feed(
    *,
    status: str = "error",
    failing_since: datetime | None = NOW - timedelta(hours=25),
    alerted_at: datetime | None = None,
) -> FeedHealth:
    return FeedHealth(
        feed_id=7,
        name="wire",
        url="https://user:secret@wire.example.org/rss?token=abc123",
        status=status,
        failing_since=failing_since,
        alerted_at=alerted_at,
        failures=12,
        last_error_kind="http",
        last_error="HTTP 503 Service Unavailable",
        last_success_at=NOW - timedelta(hours=26),
    )


def test_a_feed_failing_longer_than_the_threshold_is_reported_down_once_per_target() -> None:
    [change] = health_changes([feed()], NOW, DAY, ["ops", "pager"])

    assert change.alerted_at == NOW
    assert [q.target for q in change.notices] == ["ops", "pager"]
    notice = change.notices[0].notice
    assert (notice.kind, notice.level, notice.title) == (
        "feed-down",
        "medium",
        "feed wire is failing",
    )
    assert "12 failed polls in a row" in notice.lines[0]
    assert "HTTP 503" in notice.lines[1]
    # the keys name the run of failures, so another daemon looking makes no second notice
    keys = {q.key for q in change.notices}
    assert keys == {
        f"feed:7:down:{(NOW - timedelta(hours=25)).isoformat()}:ops",
        f"feed:7:down:{(NOW - timedelta(hours=25)).isoformat()}:pager",
    }


def test_no_secret_of_the_feed_url_reaches_the_notice() -> None:
    [change] = health_changes([feed()], NOW, DAY, ["ops"])

    text = "\n".join(change.notices[0].notice.lines)
    assert "secret" not in text and "abc123" not in text and "wire.example.org" in text


def test_a_feed_failing_for_less_than_the_threshold_says_nothing_yet() -> None:
    assert health_changes([feed(failing_since=NOW - timedelta(hours=2))], NOW, DAY, ["ops"]) == []


def test_a_gone_feed_is_reported_at_once() -> None:
    [change] = health_changes(
        [feed(status="gone", failing_since=NOW - timedelta(minutes=1))], NOW, DAY, ["ops"]
    )

    notice = change.notices[0].notice
    assert (notice.level, notice.title) == ("high", "feed wire is gone")


def test_a_feed_already_reported_down_is_not_reported_again() -> None:
    assert health_changes([feed(alerted_at=NOW - timedelta(hours=1))], NOW, DAY, ["ops"]) == []


@pytest.mark.parametrize(
    "failing_since",
    [None, NOW - timedelta(minutes=5)],  # fine again; or fine, then failing anew since
    ids=["recovered", "recovered-then-failing-again"],
)
def test_a_feed_reported_down_that_polled_fine_since_is_reported_back(
    failing_since: datetime | None,
) -> None:
    reported = NOW - timedelta(hours=1)

    [change] = health_changes(
        [feed(status="ok", failing_since=failing_since, alerted_at=reported)], NOW, DAY, ["ops"]
    )

    assert change.alerted_at is None
    [queued] = change.notices
    assert queued.key == f"feed:7:up:{reported.isoformat()}:ops"
    assert (queued.notice.kind, queued.notice.level) == ("feed-up", "low")
    assert queued.notice.title == "feed wire is back"


def test_with_no_target_the_change_is_still_recorded() -> None:
    # (the daemon logs it; recording it keeps the log from repeating it every check)
    [change] = health_changes([feed()], NOW, DAY, [])

    assert change.alerted_at == NOW and change.notices == ()
