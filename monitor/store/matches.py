"""Stored items and the matches recorded on them, for backtests and listings."""

from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlmodel import col, select

from monitor.model import DateSource, Item
from monitor.store.database import Database
from monitor.store.tables import FeedRow, ItemRow, MatchRow


@dataclass(frozen=True, slots=True)
class Recorded:
    """A stored item with the rules (and rule versions) that fired on it."""

    feed: str
    item: Item
    rules: dict[str, str]  # rule id -> rule version recorded


def recorded_items(db: Database, since: datetime | None = None) -> list[Recorded]:
    """Every stored item published since `since` (all when None), oldest first."""
    query = select(ItemRow, FeedRow.name).join(FeedRow, col(FeedRow.id) == ItemRow.feed_id)
    if since is not None:
        query = query.where(col(ItemRow.published_at) >= since)
    query = query.order_by(col(ItemRow.published_at), col(ItemRow.id))
    with db.reading() as session:
        rows = session.exec(query).all()
        ids = [row.id for row, _ in rows]
        found: dict[int, dict[str, str]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            matches = session.exec(select(MatchRow).where(col(MatchRow.item_id).in_(chunk)))
            for m in matches:
                found.setdefault(m.item_id, {})[m.rule_id] = m.rule_version
    return [
        Recorded(feed=name, item=_item(row), rules=found.get(row.id or 0, {})) for row, name in rows
    ]


@dataclass(frozen=True, slots=True)
class StoredMatch:
    """A recorded match as `monitor matches` shows it."""

    rule: str
    version: str
    level: str
    score: float
    feed: str
    title: str
    link: str | None
    published_at: datetime
    matched_at: datetime
    sentence: str
    evidence: list[dict[str, object]]


def recent_matches(db: Database, limit: int, rule: str | None = None) -> list[StoredMatch]:
    """The newest matches first."""
    query = (
        select(MatchRow, ItemRow, FeedRow.name)
        .join(ItemRow, col(ItemRow.id) == MatchRow.item_id)
        .join(FeedRow, col(FeedRow.id) == ItemRow.feed_id)
    )
    if rule is not None:
        query = query.where(MatchRow.rule_id == rule)
    query = query.order_by(col(MatchRow.matched_at).desc(), col(MatchRow.id).desc()).limit(limit)
    with db.reading() as session:
        return [
            StoredMatch(
                rule=m.rule_id,
                version=m.rule_version,
                level=m.level,
                score=m.score,
                feed=name,
                title=item.title,
                link=item.link,
                published_at=item.published_at,
                matched_at=m.matched_at,
                sentence=m.sentence,
                evidence=list(m.evidence),
            )
            for m, item, name in session.exec(query)
        ]


def _item(row: ItemRow) -> Item:
    return Item(
        key=row.key,
        guid=row.guid,
        link=row.link,
        title=row.title,
        summary=row.summary,
        author=row.author,
        published_at=row.published_at,
        date_source=cast(DateSource, row.date_source),  # written from a DateSource
        language=row.language,
        tags=tuple(row.tags),
    )
