"""Feed health rows: which feeds are failing or have recovered, and the notices about them
queued in the same transaction as the mark that says they went out. Whether a feed deserves
a notice is decided by the caller (monitor.alerts.health)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import col, select

from monitor.model import Notice
from monitor.store.database import Database
from monitor.store.outbox import insert_notice
from monitor.store.tables import FeedRow


@dataclass(frozen=True, slots=True)
class FeedHealth:
    """A feed that is failing, or was reported down and may be back."""

    feed_id: int
    name: str
    url: str
    status: str
    failing_since: datetime | None
    alerted_at: datetime | None  # when its "down" notice was queued
    failures: int
    last_error_kind: str | None
    last_error: str | None
    last_success_at: datetime | None


@dataclass(frozen=True, slots=True)
class Queued:
    """A notice to queue for one target, under a key that makes it happen once."""

    key: str
    target: str
    notice: Notice


def feed_health(db: Database) -> list[FeedHealth]:
    """Active feeds that are failing now or had a "down" notice."""
    query = select(FeedRow).where(
        col(FeedRow.active),
        or_(col(FeedRow.failing_since).is_not(None), col(FeedRow.health_alerted_at).is_not(None)),
    )
    with db.reading() as session:
        return [
            FeedHealth(
                feed_id=row.id or 0,
                name=row.name,
                url=row.url,
                status=row.status,
                failing_since=row.failing_since,
                alerted_at=row.health_alerted_at,
                failures=row.consecutive_failures,
                last_error_kind=row.last_error_kind,
                last_error=row.last_error,
                last_success_at=row.last_success_at,
            )
            for row in session.exec(query.order_by(col(FeedRow.name)))
        ]


def file_feed_notices(
    db: Database,
    feed_id: int,
    alerted_at: datetime | None,
    notices: Sequence[Queued],
    now: datetime,
) -> int:
    """Queue `notices` and mark the feed as reported down since `alerted_at` (None: back
    up), in one transaction. Returns how many notices were new."""
    with db.session() as session:
        row = session.get(FeedRow, feed_id)
        if row is None:
            return 0
        row.health_alerted_at = alerted_at
        session.add(row)
        return sum(
            insert_notice(session, db.dialect, q.key, q.target, q.notice, now) for q in notices
        )
