"""Retention: deleting what has aged out, in small batches, so history does not grow forever.

What ages out, and when, is the caller's to say (`Cutoffs`, from `retention:` in the config);
this module only finds and deletes the rows, oldest first, a batch per transaction so a
prune never holds the database for long:

- plain items (no rule matched them) fetched before `items`;
- matches made before `matches`, with their items and finished deliveries, unless an
  analyst marked them (the marks are the rules' regression set) or a delivery is pending;
- finished deliveries (sent, dead, silenced, suppressed) created before `deliveries`, with
  their attempts;
- stories nothing refers to any more, and poll history started before `polls`.

An item is kept as long as its matches, so a feed that still lists an old matched item never
makes it new (and alert) again.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, delete, exists, func, select, update
from sqlmodel import Session, col

from monitor.store.database import Database
from monitor.store.tables import (
    AttemptRow,
    DeliveryRow,
    FeedbackRow,
    FeedRow,
    ItemRow,
    MatchRow,
    PollRow,
    StoryRow,
    table_of,
)

BATCH = 2000
FINISHED = ("sent", "dead", "silenced", "suppressed")


@dataclass(frozen=True, slots=True)
class Cutoffs:
    """Rows older than these go."""

    items: datetime
    matches: datetime
    deliveries: datetime
    polls: datetime


@dataclass(frozen=True, slots=True)
class Pruned:
    """How many rows of each kind went (or, in a dry run, would go)."""

    items: int = 0
    matches: int = 0
    deliveries: int = 0
    stories: int = 0
    polls: int = 0

    @property
    def total(self) -> int:
        return self.items + self.matches + self.deliveries + self.stories + self.polls


def prune(db: Database, cutoffs: Cutoffs, *, dry_run: bool = False) -> Pruned:
    """Delete (or with `dry_run`, count) what has aged out past `cutoffs`."""
    if dry_run:
        with db.reading() as session:
            return Pruned(
                items=_count(session, _plain_items(cutoffs)),
                matches=_count(session, _old_matches(cutoffs)),
                deliveries=_count(session, _old_deliveries(cutoffs)),
                stories=0,  # known only once the matches are gone
                polls=_count(session, select(col(PollRow.id)).where(_old_poll(cutoffs))),
            )
    deliveries = _in_batches(db, _old_deliveries(cutoffs), _delete_deliveries)
    matches = _in_batches(db, _old_matches(cutoffs), _delete_matches)
    items = _in_batches(db, _plain_items(cutoffs), _delete_items)
    stories = _in_batches(db, _orphan_stories(cutoffs), _delete_stories)
    with db.session() as session:
        result = session.execute(delete(PollRow).where(_old_poll(cutoffs)))
        polls = int(result.rowcount or 0)  # type: ignore[attr-defined]
    return Pruned(items, matches, deliveries, stories, polls)


def _plain_items(cutoffs: Cutoffs) -> Select[Any]:
    return select(col(ItemRow.id)).where(
        col(ItemRow.fetched_at) < cutoffs.items,
        ~exists().where(col(MatchRow.item_id) == ItemRow.id),
    )


def _old_matches(cutoffs: Cutoffs) -> Select[Any]:
    return select(col(MatchRow.id)).where(
        col(MatchRow.matched_at) < cutoffs.matches,
        ~exists().where(col(FeedbackRow.match_id) == MatchRow.id),
        ~exists().where(
            col(DeliveryRow.match_id) == MatchRow.id, col(DeliveryRow.status) == "pending"
        ),
    )


def _old_deliveries(cutoffs: Cutoffs) -> Select[Any]:
    return select(col(DeliveryRow.id)).where(
        col(DeliveryRow.created_at) < cutoffs.deliveries, col(DeliveryRow.status).in_(FINISHED)
    )


def _orphan_stories(cutoffs: Cutoffs) -> Select[Any]:
    return select(col(StoryRow.id)).where(
        col(StoryRow.last_seen) < cutoffs.matches,
        ~exists().where(col(MatchRow.story_id) == StoryRow.id),
        ~exists().where(col(DeliveryRow.story_id) == StoryRow.id),
    )


def _old_poll(cutoffs: Cutoffs) -> ColumnElement[bool]:
    return col(PollRow.started_at) < cutoffs.polls


def _count(session: Session, ids: Select[Any]) -> int:
    return int(session.execute(select(func.count()).select_from(ids.subquery())).scalar_one())


def _in_batches(
    db: Database, ids: Select[Any], remove: Callable[[Session, list[int]], None]
) -> int:
    """Delete the rows `ids` selects, BATCH at a time, each batch in its own transaction."""
    gone = 0
    while True:
        with db.session() as session:
            batch = list(session.execute(ids.limit(BATCH)).scalars())
            if not batch:
                return gone
            remove(session, batch)
        gone += len(batch)


def _delete_deliveries(session: Session, ids: list[int]) -> None:
    session.execute(delete(AttemptRow).where(col(AttemptRow.delivery_id).in_(ids)))
    session.execute(delete(DeliveryRow).where(col(DeliveryRow.id).in_(ids)))


def _delete_matches(session: Session, ids: list[int]) -> None:
    deliveries = select(col(DeliveryRow.id)).where(col(DeliveryRow.match_id).in_(ids))
    _delete_deliveries(session, list(session.execute(deliveries).scalars()))
    items = list(
        session.execute(select(col(MatchRow.item_id)).where(col(MatchRow.id).in_(ids))).scalars()
    )
    session.execute(delete(MatchRow).where(col(MatchRow.id).in_(ids)))
    # an item goes with its last match; one another (newer, or marked) match holds stays
    _delete_counted(
        session, col(ItemRow.id).in_(items), ~exists().where(col(MatchRow.item_id) == ItemRow.id)
    )


def _delete_items(session: Session, ids: list[int]) -> None:
    _delete_counted(session, col(ItemRow.id).in_(ids))


def _delete_counted(session: Session, *where: ColumnElement[bool]) -> None:
    """Delete items and take them off their feeds' `item_count` (one executemany for all
    the feeds the batch touched)."""
    gone = session.execute(delete(ItemRow).where(*where).returning(col(ItemRow.feed_id)))
    counts = [{"feed": feed_id, "n": n} for feed_id, n in Counter(gone.scalars()).items()]
    if counts:
        session.connection().execute(_UNCOUNT, counts)


_FEED = table_of(FeedRow).c
_UNCOUNT = (
    update(table_of(FeedRow))
    .where(_FEED.id == bindparam("feed"))
    .values(item_count=_FEED.item_count - bindparam("n"))
)


def _delete_stories(session: Session, ids: list[int]) -> None:
    session.execute(delete(StoryRow).where(col(StoryRow.id).in_(ids)))
