"""Story grouping: whether an item is a copy of a story already seen, and whether a later
copy escalates. Pure: the store hands in the recent stories and keeps what this decides.

Wire copies are lightly edited: two items are one story when most of the words of the
shorter one (title and lead, folded) appear in the other, or when they share a link.
"""

import re
from collections.abc import Sequence

from monitor.model import LEVELS, as_level
from monitor.store import StorySnapshot

SAME_STORY = 0.7
_WORD = re.compile(r"\w+", re.UNICODE)
_LEAD_CHARS = 300
_MIN_WORDS = 4  # fewer words than this say too little to call two items one story


def story_words(title: str, summary: str) -> list[str]:
    """The words that identify a story: title and lead, folded; CJK as character pairs."""
    text = f"{title} {summary[:_LEAD_CHARS]}".casefold()
    words: set[str] = set()
    for word in _WORD.findall(text):
        if any("\u3040" <= ch <= "\u9fff" for ch in word):  # no spaces: use bigrams
            words |= {word[i : i + 2] for i in range(max(1, len(word) - 1))}
        elif len(word) > 2:
            words.add(word)
    return sorted(words)


def overlap(one: set[str], other: set[str]) -> float:
    if not one or not other:
        return 0.0
    return len(one & other) / min(len(one), len(other))


class StoryFiling:
    """What the store asks when it files a matched item (a `monitor.store.Filing`)."""

    def fingerprint(self, title: str, summary: str) -> list[str]:
        return story_words(title, summary)

    def pick(
        self, words: Sequence[str], link: str | None, recent: Sequence[StorySnapshot]
    ) -> StorySnapshot | None:
        """The first of `recent` (newest first) that `words`/`link` belong to, if any."""
        mine = set(words)
        for story in recent:
            if link is not None and link == story.link:
                return story
            if len(mine) >= _MIN_WORDS and overlap(mine, set(story.words)) >= SAME_STORY:
                return story
        return None

    def escalates(self, first: str, later: str) -> bool:
        """A copy alerts again only when the rule was raised since the first alert."""
        return LEVELS.index(as_level(later)) > LEVELS.index(as_level(first))
