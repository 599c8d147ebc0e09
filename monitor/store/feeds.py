"""Feed rows: syncing them with the config, leasing due feeds, and reading their state."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlmodel import col, select

from monitor.config import FeedConfig
from monitor.model import FeedState, Validators
from monitor.store.database import Database
from monitor.store.tables import FeedRow, ItemRow


@dataclass(frozen=True, slots=True)
class FeedView:
    """A feed as `monitor feeds` shows it."""

    name: str
    url: str
    title: str | None  # as the feed calls itself
    active: bool
    status: str
    interval: timedelta
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error_kind: str | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    next_poll_at: datetime
    items: int
    leased_by: str | None


def sync_feeds(db: Database, feeds: Sequence[FeedConfig], now: datetime) -> None:
    """Make the feed table match the config: add new feeds (due now), update changed ones,
    mark feeds no longer listed inactive (their items and history stay)."""
    with db.session() as session:
        rows = {row.name: row for row in session.exec(select(FeedRow))}
        for feed in feeds:
            row = rows.pop(feed.name, None)
            if row is None:
                session.add(
                    FeedRow(
                        name=feed.name,
                        url=feed.url,
                        interval_s=_seconds(feed.every),
                        language=feed.language,
                        tags=list(feed.tags),
                        next_poll_at=now,
                        created_at=now,
                    )
                )
                continue
            if row.url != feed.url:  # a new URL is a new resource: forget what we knew
                row.url, row.etag, row.last_modified, row.body_hash = feed.url, None, None, None
                row.status, row.consecutive_failures, row.next_poll_at = "new", 0, now
            if not row.active:
                row.active, row.next_poll_at = True, min(row.next_poll_at, now)
            row.interval_s = _seconds(feed.every)
            row.language, row.tags = feed.language, list(feed.tags)
            session.add(row)
        for row in rows.values():
            row.active = False
            session.add(row)


def claim_due_feeds(
    db: Database,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    names: Sequence[str] | None = None,
) -> list[FeedState]:
    """Lease up to `limit` due feeds for `owner`, soonest due first.

    One UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) statement, so two daemons on
    one PostgreSQL never lease the same feed; on SQLite the statement holds the write lock.
    With `names`, those feeds are leased whether due or not (`monitor poll`).
    """
    if limit <= 0:
        return []
    due = select(FeedRow.id).where(
        col(FeedRow.active),
        FeedRow.status != "gone",
        or_(col(FeedRow.lease_until).is_(None), col(FeedRow.lease_until) < now),
    )
    due = (
        due.where(col(FeedRow.name).in_(names))
        if names is not None
        else due.where(FeedRow.next_poll_at <= now)
    )
    due = due.order_by(col(FeedRow.next_poll_at)).limit(limit)
    statement = db.lease(FeedRow, due, owner, now + lease).returning(FeedRow)
    with db.session() as session:
        rows = session.execute(statement.execution_options(synchronize_session=False))
        claimed = [_state(row) for row in rows.scalars()]
    return sorted(claimed, key=lambda s: s.next_poll_at)


def release_leases(db: Database, owner: str) -> int:
    """Give back every lease `owner` holds (clean shutdown). Returns how many."""
    with db.session() as session:
        result = session.execute(
            update(FeedRow)
            .where(col(FeedRow.lease_owner) == owner)
            .values(lease_owner=None, lease_until=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def list_feeds(db: Database, *, include_inactive: bool = False) -> list[FeedView]:
    counts = (
        select(ItemRow.feed_id, func.count().label("n")).group_by(col(ItemRow.feed_id)).subquery()
    )
    query = select(FeedRow, counts.c.n).outerjoin(counts, counts.c.feed_id == FeedRow.id)
    if not include_inactive:
        query = query.where(col(FeedRow.active))
    with db.session() as session:
        rows = session.exec(query.order_by(col(FeedRow.name))).all()
        return [_view(row, n or 0) for row, n in rows]


def _state(row: FeedRow) -> FeedState:
    assert row.id is not None
    return FeedState(
        id=row.id,
        name=row.name,
        url=row.url,
        status=row.status,
        validators=Validators(row.etag, row.last_modified),
        body_hash=row.body_hash,
        consecutive_failures=row.consecutive_failures,
        next_poll_at=row.next_poll_at,
    )


def _view(row: FeedRow, items: int) -> FeedView:
    leased = row.lease_owner if row.lease_until else None
    return FeedView(
        name=row.name,
        url=row.url,
        title=row.title,
        active=row.active,
        status=row.status,
        interval=timedelta(seconds=row.interval_s),
        last_polled_at=row.last_polled_at,
        last_success_at=row.last_success_at,
        last_error_kind=row.last_error_kind,
        last_error=row.last_error,
        last_error_at=row.last_error_at,
        consecutive_failures=row.consecutive_failures,
        next_poll_at=row.next_poll_at,
        items=items,
        leased_by=leased,
    )


def _seconds(delta: timedelta) -> int:
    return max(1, round(delta.total_seconds()))
