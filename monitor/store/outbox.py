"""The alert outbox: claiming due deliveries, recording attempts, history, retries, silences."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from monitor.model import Alert, Evidence, Notice, as_level
from monitor.store.database import Database, insert_for
from monitor.store.tables import (
    AttemptRow,
    DeliveryRow,
    FeedRow,
    ItemRow,
    MatchRow,
    SilenceRow,
    StoryRow,
)


@dataclass(frozen=True, slots=True)
class Due:
    """A delivery to attempt now, with everything its message needs."""

    alert: Alert | Notice
    attempts: int
    pending_since: datetime  # the cut-off counts from here


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    rule: str | None
    until: datetime
    reason: str


def claim_due_deliveries(
    db: Database,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    *,
    only: str | None = None,
    skip: tuple[str, ...] = (),
) -> list[Due]:
    """Lease up to `limit` pending deliveries whose time has come (as feeds are leased): the
    matches of target `only` (a digest), or else every delivery but the matches of the
    targets in `skip` (digests go separately; notices never wait for a digest)."""
    due = (
        select(DeliveryRow.id)
        .where(
            DeliveryRow.status == "pending",
            col(DeliveryRow.next_attempt_at) <= now,
            or_(col(DeliveryRow.lease_until).is_(None), col(DeliveryRow.lease_until) < now),
        )
        .order_by(col(DeliveryRow.next_attempt_at), col(DeliveryRow.id))
        .limit(limit)
    )
    if only is not None:
        due = due.where(col(DeliveryRow.target) == only, DeliveryRow.kind == "match")
    if skip:
        due = due.where(or_(col(DeliveryRow.target).not_in(skip), col(DeliveryRow.kind) != "match"))
    claim = db.lease(DeliveryRow, due, owner, now + lease).returning(col(DeliveryRow.id))
    with db.session() as session:
        ids = list(session.execute(claim).scalars())
        if not ids:
            return []
        rows = session.execute(
            sa_select(DeliveryRow, MatchRow, ItemRow, col(FeedRow.name), StoryRow)
            .outerjoin(MatchRow, col(MatchRow.id) == DeliveryRow.match_id)
            .outerjoin(ItemRow, col(ItemRow.id) == MatchRow.item_id)
            .outerjoin(FeedRow, col(FeedRow.id) == ItemRow.feed_id)
            .outerjoin(StoryRow, col(StoryRow.id) == DeliveryRow.story_id)
            .where(col(DeliveryRow.id).in_(ids))
            .order_by(col(DeliveryRow.id))
        ).all()
        return [
            Due(_message(d, m, item, feed, story), d.attempts, d.pending_since)
            for d, m, item, feed, story in rows
        ]


def enqueue_notice(db: Database, key: str, target: str, notice: Notice, now: datetime) -> bool:
    """Queue `notice` for `target` once per `key` (a repeat is ignored). True when queued."""
    with db.session() as session:
        return insert_notice(session, db.dialect, key, target, notice, now)


def insert_notice(
    session: Session, dialect: str, key: str, target: str, notice: Notice, now: datetime
) -> bool:
    """`enqueue_notice` inside a caller's transaction."""
    statement = (
        insert_for(dialect, DeliveryRow)
        .values(
            key=key,
            kind="notice",
            notice={
                "kind": notice.kind,
                "title": notice.title,
                "lines": list(notice.lines),
                "link": notice.link,
            },
            rule_id=notice.kind,
            rule_title=notice.title,
            target=target,
            level=notice.level,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            pending_since=now,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(col(DeliveryRow.id))
    )
    return session.execute(statement).first() is not None


def record_attempt(
    db: Database,
    delivery_id: int,
    now: datetime,
    *,
    ok: bool,
    error: str | None = None,
    retry_at: datetime | None = None,
    status: str | None = None,
) -> None:
    """Store one attempt and its consequence: sent, a retry time, or a final status."""
    with db.session() as session:
        row = session.get(DeliveryRow, delivery_id)
        if row is None:
            return
        session.add(AttemptRow(delivery_id=delivery_id, at=now, ok=ok, error=error))
        row.attempts += 1
        row.lease_owner, row.lease_until = None, None
        if ok:
            row.status, row.sent_at, row.last_error = "sent", now, None
        else:
            row.last_error = error
            row.status = status or "pending"
            if retry_at is not None:
                row.next_attempt_at = retry_at
        session.add(row)


def mark(
    db: Database, delivery_id: int, status: str, reason: str, until: datetime | None = None
) -> None:
    """Change a delivery without an attempt: close it (silenced, suppressed), or keep it
    pending until `until` (held for quiet hours)."""
    with db.session() as session:
        row = session.get(DeliveryRow, delivery_id)
        if row is not None:
            row.status, row.last_error = status, reason
            row.lease_owner, row.lease_until = None, None
            if until is not None:
                row.next_attempt_at = until
            session.add(row)


def sent_since(db: Database, rule: str, target: str, since: datetime) -> bool:
    """Whether an alert of `rule` reached `target` after `since` (the re-alert window)."""
    with db.reading() as session:
        found = session.exec(
            select(DeliveryRow.id)
            .where(
                DeliveryRow.rule_id == rule,
                DeliveryRow.target == target,
                DeliveryRow.status == "sent",
                col(DeliveryRow.sent_at) > since,
            )
            .limit(1)
        ).first()
        return found is not None


def retry_deliveries(
    db: Database, now: datetime, ids: list[int] | None = None, dead: bool = False
) -> int:
    """Make deliveries pending again now (by id, or every dead one), with a fresh cut-off;
    when they were created stays as it was. Returns how many."""
    statement = update(DeliveryRow).values(
        status="pending", next_attempt_at=now, pending_since=now, lease_owner=None, lease_until=None
    )
    if ids:
        statement = statement.where(col(DeliveryRow.id).in_(ids))
    elif dead:
        statement = statement.where(col(DeliveryRow.status) == "dead")
    else:
        return 0
    with db.session() as session:
        return int(session.execute(statement).rowcount or 0)  # type: ignore[attr-defined]


def add_silence(db: Database, rule: str | None, until: datetime, reason: str, now: datetime) -> int:
    with db.session() as session:
        row = SilenceRow(rule_id=rule, until=until, reason=reason, created_at=now)
        session.add(row)
        session.flush()
        return row.id or 0


def active_silences(db: Database, now: datetime) -> list[Silence]:
    with db.reading() as session:
        rows = session.exec(select(SilenceRow).where(col(SilenceRow.until) > now))
        return [Silence(r.id or 0, r.rule_id, r.until, r.reason) for r in rows]


def remove_silence(db: Database, silence_id: int) -> bool:
    with db.session() as session:
        row = session.get(SilenceRow, silence_id)
        if row is None:
            return False
        session.delete(row)
        return True


def release_deliveries(db: Database, owners: Sequence[str]) -> int:
    """Free the deliveries leased by `owners` (daemons that are gone). Returns how many."""
    if not owners:
        return 0
    with db.session() as session:
        result = session.execute(
            update(DeliveryRow)
            .where(col(DeliveryRow.lease_owner).in_(owners))
            .values(lease_owner=None, lease_until=None)
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _message(
    d: DeliveryRow,
    m: MatchRow | None,
    item: ItemRow | None,
    feed: str | None,
    story: StoryRow | None,
) -> Alert | Notice:
    if m is None or item is None or feed is None or story is None:
        body = d.notice or {}
        lines = body.get("lines")
        link = body.get("link")
        return Notice(
            delivery_id=d.id or 0,
            target=d.target,
            kind=str(body.get("kind", d.rule_id)),
            level=as_level(d.level),
            title=str(body.get("title", d.rule_title or d.rule_id)),
            lines=tuple(str(line) for line in lines) if isinstance(lines, list) else (),
            link=str(link) if link else None,
        )
    return _alert(d, m, item, feed, story)


def _alert(d: DeliveryRow, m: MatchRow, item: ItemRow, feed: str, story: StoryRow) -> Alert:
    return Alert(
        delivery_id=d.id or 0,
        target=d.target,
        rule=d.rule_id,
        rule_title=d.rule_title or d.rule_id,
        level=as_level(d.level),
        score=m.score,
        title=item.title,
        link=item.link,
        feed=feed,
        published_at=item.published_at,
        sentence=m.sentence,
        evidence=tuple(Evidence(**e) for e in m.evidence),  # type: ignore[arg-type]
        sources=len(story.feeds),
        match_id=m.id,
    )
