"""Story rows: the stories a `Filing` needs to know, and the story it picks for each matched
item, kept (joined, or created).

Whether two items are one story, or a repeat alert escalates, is not decided here: the
caller passes a `Filing` (monitor.alerts.stories) that decides. The caller holds the
"stories" lock (`Database.lock`) around this, so stories are made one poll at a time
across every worker and daemon, and story ids grow in the order they are committed: a
filing that has seen every story up to id N misses none when it next asks for the rest.
"""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Select, and_, bindparam, case, insert, or_, select, update
from sqlmodel import Session

from monitor.model import Item
from monitor.store.tables import StoryRow, table_of


@dataclass(frozen=True, slots=True)
class StorySnapshot:
    """A stored story as the filing sees it."""

    id: int
    link: str | None
    words: tuple[str, ...]
    feeds: tuple[str, ...]
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class Wanted:
    """Which stories a filing needs to catch up on: those created after story `after_id`,
    and those touched (last seen) since `since`."""

    after_id: int
    since: datetime


class Filing(Protocol):
    """How matched items are filed: which story each joins, and whether a later copy at a
    higher level alerts again."""

    def fingerprint(self, title: str, summary: str, language: str | None) -> list[str]:
        """The words a story is recognised by (stored with a new story)."""

    def wanted(self, now: datetime, window: timedelta) -> Wanted:
        """The stories to hand to `catch_up` before picking."""

    def catch_up(self, stories: Sequence[StorySnapshot], now: datetime, window: timedelta) -> None:
        """Learn of stories made or joined since the last look (by any daemon)."""

    def knows(self, story_id: int) -> bool:
        """Whether the filing holds this story's words (a story joined since the last look
        is handed over without them when it does)."""

    def pick(
        self, words: Sequence[str], link: str | None, feed: str, now: datetime, window: timedelta
    ) -> int | None:
        """The id of the story an item of `feed` with these words and link joins, or None."""

    def accepts(self, story: StorySnapshot, feed: str, now: datetime, window: timedelta) -> bool:
        """Whether `story`, as stored now, may still take a copy from `feed`."""

    def escalates(self, first: str, later: str) -> bool:
        """Whether a copy matched at level `later` alerts again after one at `first`."""


def file_stories(
    session: Session,
    items: Sequence[tuple[int, Item, str, Sequence[str] | None]],
    now: datetime,
    window: timedelta,
    filing: Filing,
) -> dict[int, int]:
    """File each (item id, item, feed name, its fingerprint when already made) under a
    story; item id -> story id. Joined stories get the copy's feed and a new last-seen time;
    the others are created. Three statements per poll (read the window, join, create),
    whatever the number of items."""
    known = {story.id: story for story in _changed(session, filing, now, window)}
    filing.catch_up(list(known.values()), now, window)
    filed: dict[int, int] = {}
    joined: list[dict[str, object]] = []
    created: list[tuple[int, dict[str, object]]] = []
    for item_id, item, feed, given in items:
        words = (
            list(given) if given else filing.fingerprint(item.title, item.summary, item.language)
        )
        chosen = filing.pick(words, item.link, feed, now, window)
        story = None if chosen is None else known.get(chosen) or _stored(session, chosen)
        if story is not None and filing.accepts(story, feed, now, window):
            feeds = story.feeds if feed in story.feeds else (*story.feeds, feed)
            story = known[story.id] = replace(
                story, feeds=feeds, last_seen=max(story.last_seen, now)
            )
            joined.append({"story": story.id, "story_feeds": list(feeds), "seen": story.last_seen})
            filed[item_id] = story.id
        else:
            # a later item of this poll never joins it (one feed's items are never one
            # story), so its id is only needed once all are made
            values = {"title": item.title, "link": item.link, "words": words, "feeds": [feed]}
            created.append((item_id, {**values, "first_seen": now, "last_seen": now}))
    if joined:
        session.connection().execute(_JOIN, joined)
    if created:
        made = session.connection().execute(_CREATE, [values for _, values in created])
        filed.update(zip((item_id for item_id, _ in created), made.scalars(), strict=True))
    return filed


def _changed(
    session: Session, filing: Filing, now: datetime, window: timedelta
) -> list[StorySnapshot]:
    """The stories made since the filing last looked, and those touched since (without
    their words, unless the filing lacks them). Plain columns, not ORM objects: every poll
    asks."""
    wanted = filing.wanted(now, window)
    # only the window: a story last seen before it takes no more copies, and history would
    # otherwise fill the first look (every story ever made) and the memory that holds it
    start = now - window
    bounds = {"after": wanted.after_id, "window": start, "since": wanted.since}
    rows = session.connection().execute(_CHANGED, bounds | {"lowest": min(start, wanted.since)})
    snapshots = []
    for i, link, words, feeds, seen in rows:
        if i > wanted.after_id:  # made since the last look: with its words
            snapshots.append(_snapshot(i, link, words, feeds, seen))
            continue
        whole = None if filing.knows(i) else _stored(session, i)
        snapshots.append(whole or StorySnapshot(i, link, (), tuple(feeds), seen))
    return snapshots


def _stored(session: Session, story_id: int) -> StorySnapshot | None:
    row = session.connection().execute(_ONE, {"story": story_id}).first()
    return None if row is None else _snapshot(*row)


def _snapshot(
    story_id: int, link: str | None, words: list[str], feeds: list[str], seen: datetime
) -> StorySnapshot:
    """A story from the values of `_SNAPSHOT_COLUMNS`."""
    return StorySnapshot(story_id, link, tuple(words), tuple(feeds), seen)


# The statements are built once and run on the connection (Core, by the table): every poll
# with a match runs them, and building or ORM-executing them cost more than running them.
_STORY = table_of(StoryRow)
_SNAPSHOT_COLUMNS = (_STORY.c.id, _STORY.c.link, _STORY.c.words, _STORY.c.feeds, _STORY.c.last_seen)


def _changed_since() -> Select[Any]:
    """In one query: the stories made after story `after` and seen since `window` (with
    their words), and the older ones touched since `since` (without: the filing has them);
    `lowest`, the earlier of the two times, lets the last-seen index bound the scan."""
    story, seen = _STORY.c, _STORY.c.last_seen.type
    after = bindparam("after", type_=story.id.type)
    made = and_(story.id > after, story.last_seen >= bindparam("window", type_=seen))
    touched = and_(story.id <= after, story.last_seen >= bindparam("since", type_=seen))
    return (
        select(
            story.id,
            story.link,
            case((story.id > after, story.words)),
            story.feeds,
            story.last_seen,
        )
        .where(story.last_seen >= bindparam("lowest", type_=seen))
        .where(or_(made, touched))
    )


_CHANGED = _changed_since()
_ONE = select(*_SNAPSHOT_COLUMNS).where(_STORY.c.id == bindparam("story"))
_CREATE = insert(_STORY).returning(_STORY.c.id, sort_by_parameter_order=True)
# one copy more for a story: run once for all the stories a poll joins
_JOIN = (
    update(_STORY)
    .where(_STORY.c.id == bindparam("story"))
    .values(
        items=_STORY.c["items"] + 1,  # c.items is the collection's own method
        feeds=bindparam("story_feeds"),
        last_seen=bindparam("seen"),
    )
)
