"""Feed health notices: when a failing feed deserves a "down" notice, and a recovered one a
"back" notice. Pure: the caller reads the feeds' state and queues what this returns.

A feed that has failed for `after` (default 24 h), or that went `gone`, gets one "down"
notice per run of failures; once it polls fine again it gets one "back" notice. Keys make
each notice happen once, however many daemons look.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.model import Notice
from monitor.redact import redact_url
from monitor.store import FeedHealth, Queued


@dataclass(frozen=True, slots=True)
class HealthChange:
    """What to record for one feed: when its "down" notice went out (None: it is back), and
    the notices to queue."""

    feed_id: int
    alerted_at: datetime | None
    notices: tuple[Queued, ...]


def health_changes(
    feeds: Sequence[FeedHealth], now: datetime, after: timedelta, targets: Sequence[str]
) -> list[HealthChange]:
    """The notices `feeds` call for at `now`, for each of `targets`."""
    changes = []
    for feed in feeds:
        back = feed.alerted_at is not None and (
            feed.failing_since is None or feed.failing_since > feed.alerted_at
        )
        if back:
            assert feed.alerted_at is not None
            key = f"feed:{feed.feed_id}:up:{feed.alerted_at.isoformat()}"
            changes.append(HealthChange(feed.feed_id, None, _queued(key, targets, _up(feed, now))))
        elif feed.alerted_at is None and _down(feed, now, after):
            assert feed.failing_since is not None
            key = f"feed:{feed.feed_id}:down:{feed.failing_since.isoformat()}"
            notice = _down_notice(feed)
            changes.append(HealthChange(feed.feed_id, now, _queued(key, targets, notice)))
    return changes


def _down(feed: FeedHealth, now: datetime, after: timedelta) -> bool:
    if feed.failing_since is None:
        return False
    return feed.status == "gone" or now - feed.failing_since >= after


def _queued(key: str, targets: Sequence[str], notice: Notice) -> tuple[Queued, ...]:
    return tuple(Queued(f"{key}:{target}", target, notice) for target in targets)


def _down_notice(feed: FeedHealth) -> Notice:
    assert feed.failing_since is not None
    gone = feed.status == "gone"
    lines = [
        f"Failing since {_when(feed.failing_since)} ({feed.failures} failed polls in a row)."
        if not gone
        else "The publisher removed it (HTTP 410 Gone); it is no longer polled.",
        f"Last error: [{feed.last_error_kind}] {feed.last_error}",
        f"Last good poll: {_when(feed.last_success_at) if feed.last_success_at else 'never'}",
        f"URL: {redact_url(feed.url)}",
    ]
    title = f"feed {feed.name} is {'gone' if gone else 'failing'}"
    return Notice(0, "", "feed-down", "high" if gone else "medium", title, tuple(lines))


def _up(feed: FeedHealth, now: datetime) -> Notice:
    lines = [
        f"Polled fine again by {_when(now)}.",
        f"It was reported down at {_when(feed.alerted_at)}." if feed.alerted_at else "",
        f"URL: {redact_url(feed.url)}",
    ]
    title = f"feed {feed.name} is back"
    return Notice(0, "", "feed-up", "low", title, tuple(line for line in lines if line))


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "?"
