"""Stories: near-duplicate items from different feeds grouped so a rule alerts once."""

import re
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from monitor.store.tables import ItemRow, StoryRow

# Wire copies are lightly edited: two items are one story when most of the words of the
# shorter one (title and lead, folded) appear in the other.
SAME_STORY = 0.7
_WORD = re.compile(r"\w+", re.UNICODE)
_LEAD_CHARS = 300


def story_words(title: str, summary: str) -> set[str]:
    """The words that identify a story: title and lead, folded; CJK as character pairs."""
    text = f"{title} {summary[:_LEAD_CHARS]}".casefold()
    words: set[str] = set()
    for word in _WORD.findall(text):
        if any("\u3040" <= ch <= "\u9fff" for ch in word):  # no spaces: use bigrams
            words |= {word[i : i + 2] for i in range(max(1, len(word) - 1))}
        elif len(word) > 2:
            words.add(word)
    return words


def overlap(one: set[str], other: set[str]) -> float:
    if not one or not other:
        return 0.0
    return len(one & other) / min(len(one), len(other))


def assign_story(
    session: Session, item: ItemRow, feed: str, now: datetime, window: timedelta
) -> StoryRow:
    """The story `item` belongs to (updating its sources), or a new one."""
    words = story_words(item.title, item.summary)
    recent = session.exec(
        select(StoryRow)
        .where(col(StoryRow.last_seen) >= now - window)
        .order_by(col(StoryRow.last_seen).desc())
        .limit(500)
    )
    for story in recent:
        same_link = item.link is not None and item.link == story.link
        if same_link or (len(words) >= 4 and overlap(words, set(story.words)) >= SAME_STORY):
            story.items += 1
            story.last_seen = now
            if feed not in story.feeds:
                story.feeds = [*story.feeds, feed]
            session.add(story)
            return story
    story = StoryRow(
        title=item.title,
        link=item.link,
        words=sorted(words),
        feeds=[feed],
        first_seen=now,
        last_seen=now,
    )
    session.add(story)
    session.flush()
    return story
