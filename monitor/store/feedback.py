"""Feedback: an analyst's verdict on a match (relevant or not, with a note), and the tallies
that say how precise each rule has been, overall, per rule version and per week."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from monitor.model import Item
from monitor.store.database import Database
from monitor.store.matches import _item
from monitor.store.pages import utc_day
from monitor.store.tables import FeedbackRow, FeedRow, ItemRow, MatchRow


@dataclass(frozen=True, slots=True)
class Feedback:
    """The verdict on one match."""

    match_id: int
    rule: str
    version: str
    relevant: bool
    note: str | None
    marked_at: datetime


@dataclass(frozen=True, slots=True)
class Tally:
    """Marks counted: confirmed (relevant) and rejected (not relevant)."""

    relevant: int = 0
    rejected: int = 0

    @property
    def marked(self) -> int:
        return self.relevant + self.rejected

    @property
    def precision(self) -> float | None:
        """Relevant share of the marked matches; None when nothing is marked."""
        return self.relevant / self.marked if self.marked else None

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(self.relevant + other.relevant, self.rejected + other.rejected)


@dataclass(frozen=True, slots=True)
class RulePrecision:
    """How precise a rule's matches were, as the analysts marked them."""

    rule: str
    overall: Tally
    by_version: tuple[tuple[str, Tally], ...]  # oldest version first (by its first match)
    by_week: tuple[tuple[date, Tally], ...]  # weeks (their Monday) of the matches' dates


@dataclass(frozen=True, slots=True)
class Marked:
    """A marked match with its item, for backtests: would a changed rule still fire?"""

    match_id: int
    rule: str
    version: str
    relevant: bool
    note: str | None
    feed: str
    item: Item


def set_feedback(
    db: Database, match_id: int, relevant: bool, note: str | None, now: datetime
) -> Feedback | None:
    """Mark match `match_id` relevant or not (replacing an earlier mark). None when there
    is no such match."""
    with db.session() as session:
        match = session.get(MatchRow, match_id)
        if match is None:
            return None
        row = session.exec(select(FeedbackRow).where(FeedbackRow.match_id == match_id)).first()
        if row is None:
            row = FeedbackRow(
                match_id=match_id,
                rule_id=match.rule_id,
                rule_version=match.rule_version,
                relevant=relevant,
                note=note,
                marked_at=now,
            )
        else:
            row.relevant, row.note, row.marked_at = relevant, note, now
        session.add(row)
        return _view(row)


def clear_feedback(db: Database, match_id: int) -> bool:
    """Remove the mark on `match_id`. True when there was one."""
    with db.session() as session:
        result = session.execute(delete(FeedbackRow).where(col(FeedbackRow.match_id) == match_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]


def feedback_for(db: Database, match_ids: Iterable[int]) -> dict[int, Feedback]:
    """The marks on `match_ids` (unmarked ones are absent)."""
    ids = list(dict.fromkeys(match_ids))
    found: dict[int, Feedback] = {}
    with db.reading() as session:
        for start in range(0, len(ids), 500):
            query = select(FeedbackRow).where(
                col(FeedbackRow.match_id).in_(ids[start : start + 500])
            )
            found.update((row.match_id, _view(row)) for row in session.exec(query))
    return found


def rule_precision(db: Database, rules: Sequence[str] | None = None) -> dict[str, RulePrecision]:
    """Per rule (all marked rules, or those in `rules`): marks overall, per rule version and
    per week of the matches' dates (counted per day in the database)."""
    day = utc_day(db, MatchRow.matched_at)
    query = (
        sa_select(
            col(FeedbackRow.rule_id),
            col(FeedbackRow.rule_version),
            col(FeedbackRow.relevant),
            day,
            func.count(),
            func.min(MatchRow.matched_at),
        )
        .join(MatchRow, col(MatchRow.id) == FeedbackRow.match_id)
        .group_by(
            col(FeedbackRow.rule_id), col(FeedbackRow.rule_version), col(FeedbackRow.relevant), day
        )
    )
    if rules is not None:
        query = query.where(col(FeedbackRow.rule_id).in_(list(rules)))
    with db.reading() as session:
        rows = sorted(session.execute(query), key=lambda r: (r[5], r[0], r[1]))
    overall: dict[str, Tally] = defaultdict(Tally)
    versions: dict[str, dict[str, Tally]] = defaultdict(dict)
    weeks: dict[str, dict[date, Tally]] = defaultdict(dict)
    for rule, version, relevant, value, n, _ in rows:
        marks = Tally(n, 0) if relevant else Tally(0, n)
        overall[rule] = overall[rule] + marks
        versions[rule][version] = versions[rule].get(version, Tally()) + marks
        on = value if isinstance(value, date) else date.fromisoformat(str(value))
        week = on - timedelta(days=on.weekday())
        weeks[rule][week] = weeks[rule].get(week, Tally()) + marks
    return {
        rule: RulePrecision(
            rule=rule,
            overall=tally,
            by_version=tuple(versions[rule].items()),
            by_week=tuple(sorted(weeks[rule].items())),
        )
        for rule, tally in sorted(overall.items())
    }


def marked_items(db: Database, since: datetime | None = None) -> list[Marked]:
    """Every marked match (of items published since `since`) with its item, oldest first."""
    query = (
        select(FeedbackRow, ItemRow, FeedRow.name)
        .join(MatchRow, col(MatchRow.id) == FeedbackRow.match_id)
        .join(ItemRow, col(ItemRow.id) == MatchRow.item_id)
        .join(FeedRow, col(FeedRow.id) == ItemRow.feed_id)
    )
    if since is not None:
        query = query.where(col(ItemRow.published_at) >= since)
    with db.reading() as session:
        rows = session.exec(query.order_by(col(ItemRow.published_at), col(FeedbackRow.id))).all()
        return [
            Marked(
                match_id=f.match_id,
                rule=f.rule_id,
                version=f.rule_version,
                relevant=f.relevant,
                note=f.note,
                feed=name,
                item=_item(item),
            )
            for f, item, name in rows
        ]


def _view(row: FeedbackRow) -> Feedback:
    return Feedback(
        match_id=row.match_id,
        rule=row.rule_id,
        version=row.rule_version,
        relevant=row.relevant,
        note=row.note,
        marked_at=row.marked_at,
    )
