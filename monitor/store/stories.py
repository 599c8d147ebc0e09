"""Story rows: the recent stories handed to a `Filing`, and what it decides, kept.

Whether two items are one story, or a repeat alert escalates, is not decided here: the
caller passes a `Filing` (monitor.alerts.stories) that decides.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlmodel import Session, col, select

from monitor.store.tables import ItemRow, StoryRow

RECENT_STORIES = 500


@dataclass(frozen=True, slots=True)
class StorySnapshot:
    """A stored story as the grouping sees it."""

    id: int
    link: str | None
    words: tuple[str, ...]
    feeds: tuple[str, ...]


class Filing(Protocol):
    """How matched items are filed: which story each joins, and whether a later copy at a
    higher level alerts again."""

    def fingerprint(self, title: str, summary: str) -> list[str]:
        """The words a story is recognised by."""

    def pick(
        self, words: Sequence[str], link: str | None, recent: Sequence[StorySnapshot]
    ) -> StorySnapshot | None:
        """The story of `recent` an item with these words and link belongs to, or None."""

    def escalates(self, first: str, later: str) -> bool:
        """Whether a copy matched at level `later` alerts again after one at `first`."""


def assign_story(
    session: Session,
    item: ItemRow,
    feed: str,
    now: datetime,
    window: timedelta,
    grouping: Filing,
) -> int:
    """The id of the story `item` belongs to (its sources updated), or of a new one."""
    words = grouping.fingerprint(item.title, item.summary)
    rows = list(
        session.exec(
            select(StoryRow)
            .where(col(StoryRow.last_seen) >= now - window)
            .order_by(col(StoryRow.last_seen).desc())
            .limit(RECENT_STORIES)
        )
    )
    chosen = grouping.pick(words, item.link, [_snapshot(row) for row in rows])
    if chosen is not None:
        story = next(row for row in rows if row.id == chosen.id)
        story.items += 1
        story.last_seen = now
        if feed not in story.feeds:
            story.feeds = [*story.feeds, feed]
        session.add(story)
        return chosen.id
    story = StoryRow(
        title=item.title,
        link=item.link,
        words=words,
        feeds=[feed],
        first_seen=now,
        last_seen=now,
    )
    session.add(story)
    session.flush()
    assert story.id is not None
    return story.id


def _snapshot(row: StoryRow) -> StorySnapshot:
    assert row.id is not None
    return StorySnapshot(row.id, row.link, tuple(row.words), tuple(row.feeds))
