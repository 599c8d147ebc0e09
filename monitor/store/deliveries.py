"""The delivery history for the dashboard: deliveries newest first (keyset pagination by
id, within a status, a target or a match), each with its attempts; counts per status."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func
from sqlmodel import col, select

from monitor.store.database import Database
from monitor.store.pages import Page
from monitor.store.tables import AttemptRow, DeliveryRow, ItemRow, MatchRow


@dataclass(frozen=True, slots=True)
class AttemptView:
    at: datetime
    ok: bool
    error: str | None


@dataclass(frozen=True, slots=True)
class DeliveryLine:
    """One delivery with its attempts, for the alerts page."""

    id: int
    kind: str  # match | notice
    match_id: int | None
    target: str
    rule: str
    level: str
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime
    title: str
    tries: tuple[AttemptView, ...] = field(default=())


def delivery_page(
    db: Database,
    *,
    status: str | None = None,
    target: str | None = None,
    match_id: int | None = None,
    before: int | None = None,
    limit: int = 50,
) -> Page[DeliveryLine]:
    """Deliveries with id below `before`, newest first, each with its attempts."""
    query = select(DeliveryRow, ItemRow.title).outerjoin(
        MatchRow, col(MatchRow.id) == DeliveryRow.match_id
    )
    query = query.outerjoin(ItemRow, col(ItemRow.id) == MatchRow.item_id)
    for column, value in (
        (DeliveryRow.status, status),
        (DeliveryRow.target, target),
        (DeliveryRow.match_id, match_id),
    ):
        if value is not None:
            query = query.where(col(column) == value)
    if before is not None:
        query = query.where(col(DeliveryRow.id) < before)
    query = query.order_by(col(DeliveryRow.id).desc()).limit(limit + 1)
    with db.reading() as session:
        rows = session.exec(query).all()
        ids = [d.id for d, _ in rows[:limit]]
        tries: dict[int, list[AttemptView]] = {}
        attempts = select(AttemptRow).where(col(AttemptRow.delivery_id).in_(ids))
        for a in session.exec(attempts.order_by(col(AttemptRow.at), col(AttemptRow.id))):
            tries.setdefault(a.delivery_id, []).append(AttemptView(a.at, a.ok, a.error))
    lines = tuple(
        DeliveryLine(
            id=d.id or 0,
            kind=d.kind,
            match_id=d.match_id,
            target=d.target,
            rule=d.rule_id,
            level=d.level,
            status=d.status,
            attempts=d.attempts,
            last_error=d.last_error,
            created_at=d.created_at,
            sent_at=d.sent_at,
            next_attempt_at=d.next_attempt_at,
            title=title if title is not None else d.rule_title or d.rule_id,
            tries=tuple(tries.get(d.id or 0, ())),
        )
        for d, title in rows[:limit]
    )
    more = len(rows) > limit
    return Page(lines, lines[-1].id if more else None)


def delivery_status(db: Database, delivery_id: int) -> str | None:
    """The status of one delivery; None when there is no such delivery."""
    with db.reading() as session:
        row = session.get(DeliveryRow, delivery_id)
        return row.status if row is not None else None


def delivery_counts(db: Database) -> dict[str, int]:
    """Deliveries per status (pending, sent, dead, silenced, suppressed)."""
    query = select(DeliveryRow.status, func.count()).group_by(col(DeliveryRow.status))
    with db.reading() as session:
        return {status: int(n) for status, n in session.exec(query)}


def list_deliveries(
    db: Database, limit: int, status: str | None = None, target: str | None = None
) -> list[DeliveryLine]:
    """The newest `limit` deliveries (of a status, of a target), as `monitor alerts` lists
    them."""
    return list(delivery_page(db, status=status, target=target, limit=limit).rows)
