"""Feed rows: syncing them with the config, leasing due feeds, and reading their state."""

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, col, select

from monitor.model import FeedState, Validators
from monitor.settings import FeedConfig
from monitor.store.database import Database, insert_for
from monitor.store.tables import FeedRow


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
    mark feeds no longer listed inactive (their items and history stay). Only the daemon
    (and `monitor feeds sync`) calls this: a command run with another config must not
    deactivate the daemon's feeds.

    Daemons starting together on one PostgreSQL run this one at a time (an advisory lock),
    and new feeds are inserted with ON CONFLICT DO NOTHING besides."""
    with db.session() as session:
        db.lock(session, "feed-sync")
        _upsert(session, db.dialect, feeds, now)
        listed = {feed.name for feed in feeds}
        session.execute(
            update(FeedRow)
            .where(col(FeedRow.active), col(FeedRow.name).not_in(listed))
            .values(active=False)
            .execution_options(synchronize_session=False)
        )


def add_feeds(db: Database, feeds: Sequence[FeedConfig], now: datetime) -> None:
    """Add or update just these feeds (`monitor poll`); every other feed stays as it is."""
    with db.session() as session:
        db.lock(session, "feed-sync")
        _upsert(session, db.dialect, feeds, now)


def _upsert(session: Session, dialect: str, feeds: Sequence[FeedConfig], now: datetime) -> None:
    fresh = [
        {
            "name": feed.name,
            "url": feed.url,
            "host": feed.host,
            "interval_s": _seconds(feed.every),
            "language": feed.language,
            "tags": list(feed.tags),
            "active": True,
            "status": "new",
            "consecutive_failures": 0,
            "next_poll_at": now,
            "created_at": now,
        }
        for feed in feeds
    ]
    if fresh:
        session.execute(
            insert_for(dialect, FeedRow)
            .values(fresh)
            .on_conflict_do_nothing(index_elements=["name"])
        )
    wanted = {feed.name: feed for feed in feeds}
    for row in session.exec(select(FeedRow).where(col(FeedRow.name).in_(wanted))):
        feed = wanted[row.name]
        if row.url != feed.url:  # a new URL is a new resource: forget what we knew
            row.url, row.etag, row.last_modified, row.body_hash = feed.url, None, None, None
            row.status, row.consecutive_failures, row.next_poll_at = "new", 0, now
            row.failing_since, row.health_alerted_at = None, None
        if not row.active:
            row.active, row.next_poll_at = True, min(row.next_poll_at, now)
        row.host, row.interval_s = feed.host, _seconds(feed.every)
        row.language, row.tags = feed.language, list(feed.tags)
        session.add(row)


def claim_due_feeds(
    db: Database,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    names: Sequence[str] | None = None,
    *,
    hosts: "HostLimit | None" = None,
) -> list[FeedState]:
    """Lease up to `limit` due feeds for `owner`, soonest due first.

    With `hosts`, at most `hosts.per_host` feeds of one host are in flight for `owner`,
    counting those it already polls: a slow host cannot take every worker. With `names`,
    those feeds are leased whether due or not (`monitor poll`).

    Candidates are read first, then leased with one UPDATE … WHERE id IN (…) that checks
    everything that made them candidates again (FOR UPDATE SKIP LOCKED on PostgreSQL), so
    two daemons never lease the same feed, nor one that the other polled in between; on
    SQLite the statement holds the write lock.
    """
    if limit <= 0:
        return []
    # what makes a feed leasable, checked when candidates are read and again as they are
    # leased: a feed another daemon leased, polled and released in between is no longer due
    leasable = (
        col(FeedRow.active),
        FeedRow.status != "gone",
        or_(col(FeedRow.lease_until).is_(None), col(FeedRow.lease_until) < now),
        col(FeedRow.name).in_(names) if names is not None else FeedRow.next_poll_at <= now,
    )
    candidates = select(FeedRow.id, FeedRow.host).where(*leasable)
    if hosts is not None and (full := hosts.full()):
        candidates = candidates.where(col(FeedRow.host).not_in(full))
    # a few more than wanted, so that hosts at their limit do not leave workers idle
    candidates = candidates.order_by(col(FeedRow.next_poll_at), col(FeedRow.id))
    candidates = candidates.limit(limit if hosts is None else limit * 4 + 16)
    with db.session() as session:
        picked = _spread(list(session.execute(candidates)), limit, hosts)
        if not picked:
            return []
        due = select(FeedRow.id).where(col(FeedRow.id).in_(picked), *leasable)
        statement = db.lease(FeedRow, due, owner, now + lease).returning(FeedRow)
        rows = session.execute(statement.execution_options(synchronize_session=False))
        claimed = [_state(row) for row in rows.scalars()]
    return sorted(claimed, key=lambda s: s.next_poll_at)


@dataclass(frozen=True, slots=True)
class HostLimit:
    """How many polls one host may have in flight, and how many each already has."""

    per_host: int
    busy: Mapping[str, int]

    def full(self) -> list[str]:
        return [host for host, count in self.busy.items() if count >= self.per_host]


def _spread(candidates: list[Any], limit: int, hosts: HostLimit | None) -> list[int]:
    """The ids to lease: in order, at most `per_host` per host counting the busy ones."""
    taken: Counter[str] = Counter(hosts.busy if hosts else {})
    picked: list[int] = []
    for feed_id, host in candidates:
        if hosts is not None and taken[host] >= hosts.per_host:
            continue
        taken[host] += 1
        picked.append(feed_id)
        if len(picked) == limit:
            break
    return picked


def release_leases(db: Database, *owners: str) -> int:
    """Give back every feed lease `owners` hold (a clean shutdown, or daemons found dead).
    Returns how many."""
    with db.session() as session:
        result = session.execute(
            update(FeedRow)
            .where(col(FeedRow.lease_owner).in_(owners))
            .values(lease_owner=None, lease_until=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def list_feeds(db: Database, *, include_inactive: bool = False) -> list[FeedView]:
    query = select(FeedRow)
    if not include_inactive:
        query = query.where(col(FeedRow.active))
    with db.reading() as session:
        rows = session.exec(query.order_by(col(FeedRow.name))).all()
        return [_view(row) for row in rows]


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


def _view(row: FeedRow) -> FeedView:
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
        items=row.item_count,
        leased_by=leased,
    )


def _seconds(delta: timedelta) -> int:
    return max(1, round(delta.total_seconds()))
