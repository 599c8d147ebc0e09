"""The dashboard's reads: pages of matches and deliveries (keyset pagination: newest first,
`before` an id, never OFFSET), one match or story with everything around it, matches per
day and rule. Every query is served by an index (see migration 0004)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from monitor.model import Evidence
from monitor.store.database import Database
from monitor.store.deliveries import DeliveryLine, delivery_page
from monitor.store.feedback import Feedback, feedback_for
from monitor.store.pages import Page, utc_day
from monitor.store.tables import (
    FeedbackRow,
    FeedRow,
    ItemRow,
    MatchRow,
    StoryRow,
)

FeedbackFilter = Literal["any", "relevant", "not-relevant", "unmarked"]


@dataclass(frozen=True, slots=True)
class MatchFilter:
    """What the matches page shows; every field narrows it (None: no limit)."""

    rule: str | None = None
    level: str | None = None
    feed: str | None = None
    language: str | None = None
    since: datetime | None = None  # matched at or after
    until: datetime | None = None  # matched before
    feedback: FeedbackFilter = "any"


@dataclass(frozen=True, slots=True)
class MatchView:
    """One match as the matches page lists it."""

    id: int
    rule: str
    version: str
    level: str
    score: float
    feed: str
    language: str | None
    title: str
    link: str | None
    published_at: datetime
    matched_at: datetime
    sentence: str
    evidence: tuple[Evidence, ...]
    story_id: int | None
    sources: int  # outlets that reported its story
    relevant: bool | None  # the analyst's mark; None: unmarked


@dataclass(frozen=True, slots=True)
class StoryMember:
    match_id: int
    rule: str
    feed: str
    title: str
    link: str | None
    published_at: datetime


@dataclass(frozen=True, slots=True)
class StoryView:
    id: int
    title: str
    link: str | None
    outlets: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    members: tuple[StoryMember, ...]  # its matched items, oldest first


@dataclass(frozen=True, slots=True)
class MatchDetail:
    match: MatchView
    summary: str
    author: str | None
    feedback: Feedback | None
    story: StoryView | None
    deliveries: tuple[DeliveryLine, ...]


@dataclass(frozen=True, slots=True)
class FeedLine:
    """A feed's state at a glance."""

    name: str
    status: str
    language: str | None
    last_success_at: datetime | None
    last_error_kind: str | None
    last_error: str | None
    last_error_at: datetime | None
    failures: int


@dataclass(frozen=True, slots=True)
class DayCount:
    rule: str
    day: date
    count: int


def match_page(
    db: Database, filters: MatchFilter, before: int | None = None, limit: int = 50
) -> Page[MatchView]:
    """Up to `limit` matches with id below `before`, newest first."""
    query = match_page_query(filters, before, limit)
    with db.reading() as session:
        rows = [_match_view(row) for row in session.execute(query)]
    more = len(rows) > limit
    return Page(tuple(rows[:limit]), rows[limit - 1].id if more else None)


def match_page_query(filters: MatchFilter, before: int | None, limit: int) -> Any:
    """The statement `match_page` runs, for EXPLAIN in tests and benchmarks."""
    query = _filtered(_match_query(), filters)
    if before is not None:
        query = query.where(col(MatchRow.id) < before)
    return query.order_by(col(MatchRow.id).desc()).limit(limit + 1)


def match_detail(db: Database, match_id: int) -> MatchDetail | None:
    """A match with its item, story, deliveries and mark; None when there is no such match."""
    query = _match_query().add_columns(ItemRow.summary, ItemRow.author)
    with db.reading() as session:
        row = session.execute(query.where(col(MatchRow.id) == match_id)).first()
    if row is None:
        return None
    view = _match_view(row)
    story = story_detail(db, view.story_id) if view.story_id is not None else None
    deliveries = delivery_page(db, match_id=match_id, limit=100).rows
    mark = feedback_for(db, [match_id]).get(match_id)
    return MatchDetail(view, row[-2], row[-1], mark, story, deliveries)


def story_detail(db: Database, story_id: int) -> StoryView | None:
    query = (
        sa_select(
            col(MatchRow.id),
            col(MatchRow.rule_id),
            col(FeedRow.name),
            col(ItemRow.title),
            col(ItemRow.link),
            col(ItemRow.published_at),
        )
        .join(ItemRow, col(ItemRow.id) == MatchRow.item_id)
        .join(FeedRow, col(FeedRow.id) == ItemRow.feed_id)
        .where(col(MatchRow.story_id) == story_id)
        .order_by(col(ItemRow.published_at), col(MatchRow.id))
        .limit(500)
    )
    with db.reading() as session:
        story = session.get(StoryRow, story_id)
        if story is None:
            return None
        members = tuple(StoryMember(*row) for row in session.execute(query))
    return StoryView(
        id=story_id,
        title=story.title,
        link=story.link,
        outlets=tuple(story.feeds),
        first_seen=story.first_seen,
        last_seen=story.last_seen,
        members=members,
    )


def daily_counts(db: Database, first: date, last: date) -> list[DayCount]:
    """Matches per rule and UTC day, from day `first` to day `last` (both included); days
    without matches are absent."""
    with db.reading() as session:
        return [
            DayCount(rule, value if isinstance(value, date) else date.fromisoformat(str(value)), n)
            for rule, value, n in session.execute(daily_counts_query(db, first, last))
        ]


def daily_counts_query(db: Database, first: date, last: date) -> Any:
    """The statement `daily_counts` runs (read from the covering index on matched_at and
    rule_id alone), for EXPLAIN in tests and benchmarks."""
    day = utc_day(db, MatchRow.matched_at)
    return (
        sa_select(col(MatchRow.rule_id), day, func.count())
        .where(
            col(MatchRow.matched_at) >= _midnight(first),
            col(MatchRow.matched_at) < _midnight(last + timedelta(days=1)),
        )
        .group_by(col(MatchRow.rule_id), day)
    )


def feed_lines(db: Database) -> list[FeedLine]:
    """Every active feed's state, without counting its items (cheap at any size)."""
    query = select(FeedRow).where(col(FeedRow.active)).order_by(col(FeedRow.name))
    with db.reading() as session:
        return [
            FeedLine(
                name=f.name,
                status=f.status,
                language=f.language,
                last_success_at=f.last_success_at,
                last_error_kind=f.last_error_kind,
                last_error=f.last_error,
                last_error_at=f.last_error_at,
                failures=f.consecutive_failures,
            )
            for f in session.exec(query)
        ]


def _match_query() -> Any:
    return (
        sa_select(
            MatchRow,
            col(FeedRow.name),
            col(ItemRow.language),
            col(ItemRow.title),
            col(ItemRow.link),
            col(ItemRow.published_at),
            col(FeedbackRow.relevant),
            col(StoryRow.feeds),
        )
        .join(ItemRow, col(ItemRow.id) == MatchRow.item_id)
        .join(FeedRow, col(FeedRow.id) == ItemRow.feed_id)
        .outerjoin(FeedbackRow, col(FeedbackRow.match_id) == MatchRow.id)
        .outerjoin(StoryRow, col(StoryRow.id) == MatchRow.story_id)
    )


def _filtered(query: Any, f: MatchFilter) -> Any:
    for column, value in (
        (MatchRow.rule_id, f.rule),
        (MatchRow.level, f.level),
        (FeedRow.name, f.feed),
        (ItemRow.language, f.language),
    ):
        if value is not None:
            query = query.where(col(column) == value)
    if f.since is not None:
        query = query.where(col(MatchRow.matched_at) >= f.since)
    if f.until is not None:
        query = query.where(col(MatchRow.matched_at) < f.until)
    if f.feedback == "unmarked":
        query = query.where(col(FeedbackRow.id).is_(None))
    elif f.feedback != "any":  # few matches are marked: start from the marks
        marked = select(FeedbackRow.match_id).where(
            col(FeedbackRow.relevant).is_(f.feedback == "relevant")
        )
        query = query.where(col(MatchRow.id).in_(marked))
    return query


def _match_view(row: Sequence[Any]) -> MatchView:
    """A row of `_match_query` (match, feed, language, title, link, published, mark, outlets)."""
    m: MatchRow = row[0]
    feed, language, title, link, published_at, relevant, outlets = row[1:8]
    return MatchView(
        id=m.id or 0,
        rule=m.rule_id,
        version=m.rule_version,
        level=m.level,
        score=m.score,
        feed=feed,
        language=language,
        title=title,
        link=link,
        published_at=published_at,
        matched_at=m.matched_at,
        sentence=m.sentence,
        evidence=tuple(_evidence(e) for e in m.evidence),
        story_id=m.story_id,
        sources=len(outlets or ()),
        relevant=relevant,
    )


def _evidence(stored: dict[str, object]) -> Evidence:
    def number(key: str) -> int:
        value = stored.get(key, 0)
        return value if isinstance(value, int) else 0

    return Evidence(
        kind=str(stored.get("kind", "")),
        ref=str(stored.get("ref", "")),
        text=str(stored.get("text", "")),
        start=number("start"),
        end=number("end"),
        via=str(stored.get("via", "")),
    )


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
