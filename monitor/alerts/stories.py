"""Story grouping: whether two items tell one story, the index of the stories in the window,
and the `Filing` the store asks. Pure: no I/O, no clock; the caller passes every time.

Two items are one story when (the numbers are `Thresholds`)
  1. their content words (monitor.alerts.storyprint) overlap: Jaccard >= 0.30 on title and
     lead, or >= 0.60 on the headlines alone when either item has no lead;
  2. one headline is told by the other item: at least 70% of its words occur in the
     other's title or lead. Two events between the same states share the states' names
     and little else, and each headline then carries its own event ("troops", "shells");
  3. their headlines do not give different figures: when both headlines carry numbers and
     neither headline's number occurs in the other item, they are two events ("1,500 troops"
     is not "10,000 troops");
  4. near copies (Jaccard >= 0.55) do not differ in their headlines: when two items
     share almost every word and yet each headline has a word the other item never uses,
     those words are the news told in one template ("sends troops" / "sends shells").
Two items of one feed are never one story (`StoryIndex.find`). The thresholds were chosen on
tests/data/stories/pairs.yaml; bench/story_grouping.py prints the curves behind them.
"""

import functools
import heapq
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.alerts.storyprint import BANDS, ROWS, StoryPrint, fingerprint, story_words
from monitor.model import LEVELS, as_level
from monitor.store import StorySnapshot, Wanted

__all__ = [
    "THRESHOLDS",
    "StoryFiling",
    "StoryIndex",
    "StoryPrint",
    "Thresholds",
    "band_keys",
    "fingerprint",
    "headline_cover",
    "same_story",
    "similarity",
    "story_words",
]

MIN_WORDS = 3  # fewer compared words than this say too little to call two items one story


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The numbers of `same_story`, chosen on the labelled pairs (bench/story_grouping.py)."""

    same_story: float = 0.30  # Jaccard of title and lead
    same_headline: float = 0.60  # Jaccard of headlines, when an item has no lead
    headline_cover: float = 0.70  # share of the better-told headline the other item tells
    near_copy: float = 0.55  # from here on, headlines must not each have a word of their own


THRESHOLDS = Thresholds()


def similarity(a: StoryPrint, b: StoryPrint) -> float:
    """Jaccard similarity of the content words of `a` and `b`: of title and lead, or of the
    headlines alone when either has no lead (a headline against a whole item would always
    look distant)."""
    one, other = _compared(a, b)
    if not one or not other:
        return 0.0
    return len(one & other) / len(one | other)


def headline_cover(a: StoryPrint, b: StoryPrint) -> float:
    """How much of the better-told headline the other item tells: the larger of the shares
    of `a`'s title words found anywhere in `b`, and of `b`'s found in `a`."""
    return max(_cover(a.title, b.words), _cover(b.title, a.words))


def same_story(a: StoryPrint, b: StoryPrint, limits: Thresholds = THRESHOLDS) -> bool:
    """Whether `a` and `b` tell one story (the rules in this module's docstring)."""
    one, other = _compared(a, b)
    if len(one) < MIN_WORDS or len(other) < MIN_WORDS:
        return False
    bar = limits.same_story if a.lead and b.lead else limits.same_headline
    score = similarity(a, b)
    return (
        score >= bar
        and headline_cover(a, b) >= limits.headline_cover
        and not _figures_differ(a, b)
        and not (score >= limits.near_copy and _headlines_differ(a, b))
    )


@functools.lru_cache(maxsize=4096)
def band_keys(print_: StoryPrint) -> tuple[int, ...]:
    """The LSH bucket of `print_` in each of `BANDS` bands (`ROWS` MinHash values each).
    Prints whose words overlap by Jaccard J share a bucket with probability
    1 - (1 - J**ROWS)**BANDS: 0.95 at J = 0.30, 0.28 at J = 0.10.

    Remembered for the last prints: a new item's print is looked up when it is filed and
    again when its story enters the index at the next poll (the MinHash is most of the
    cost of filing a story)."""
    signature = print_.signature
    keys = []
    for band in range(BANDS):
        key = 0
        for value in signature[band * ROWS : (band + 1) * ROWS]:
            key = key << 32 | value
        keys.append(key)
    return tuple(keys)


@dataclass(slots=True)
class _Story:
    print: StoryPrint
    feeds: set[str]
    link: str | None
    last_seen: datetime
    indexed: bool = False


class StoryIndex:
    """The stories of the window in memory, for finding the story an item belongs to in
    O(1) of the number of stories: a dict of links and LSH buckets of MinHash bands, never a
    scan. Stories are added as they are created (by any daemon: adding one twice merges it),
    touched when a copy joins, and expired when their last copy leaves the window.

    A bucket shared by more than `BUCKET_CAP` stories holds stories that agree on common
    words only (every story of the window names the same states); lookups skip it, so a
    lookup checks at most BANDS x BUCKET_CAP candidates however large the window. A copy
    that only such buckets would find starts a story of its own: an extra alert, never a
    lost one.
    """

    BUCKET_CAP = 32

    def __init__(self) -> None:
        self._stories: dict[int, _Story] = {}
        self._links: dict[str, int] = {}
        # one dict per band: key -> a story id, or the set of them when several share it
        # (most buckets hold one story; a set for each would triple the memory)
        self._buckets: list[dict[int, int | set[int]]] = [{} for _ in range(BANDS)]
        self._expiry: list[tuple[datetime, int]] = []  # (last_seen, id); stale ones skipped

    def __len__(self) -> int:
        return len(self._stories)

    def __contains__(self, story_id: object) -> bool:
        return story_id in self._stories

    def add(
        self,
        story_id: int,
        print: StoryPrint,
        feeds: Iterable[str],
        link: str | None,
        last_seen: datetime,
    ) -> None:
        """Index a story. A story already indexed keeps its print and gains the feeds."""
        if story_id in self._stories:
            for feed in feeds:
                self.touch(story_id, feed, last_seen)
            return
        story = _Story(print, set(feeds), link, last_seen)
        self._stories[story_id] = story
        if link is not None:
            self._links[link] = story_id
        if len(print.words) >= MIN_WORDS:  # an empty print would share every bucket
            story.indexed = True
            for band, key in zip(self._buckets, band_keys(print), strict=True):
                held = band.get(key)
                if held is None:
                    band[key] = story_id
                elif isinstance(held, int):
                    band[key] = {held, story_id}
                else:
                    held.add(story_id)
        heapq.heappush(self._expiry, (last_seen, story_id))

    def touch(self, story_id: int, feed: str, last_seen: datetime) -> None:
        """A copy from `feed` joined the story. Unknown (expired) stories are ignored."""
        story = self._stories.get(story_id)
        if story is None:
            return
        story.feeds.add(feed)
        if last_seen > story.last_seen:
            story.last_seen = last_seen
            heapq.heappush(self._expiry, (last_seen, story_id))

    def find(
        self,
        print: StoryPrint,
        feed: str,
        link: str | None,
        now: datetime,
        window: timedelta,
    ) -> int | None:
        """The story an item of `feed` with this print and link belongs to, or None: the
        story with its link, else the most similar candidate that `same_story` accepts
        (ties: the most recently seen). Never a story that already has an item of `feed`,
        never one last seen before `now - window`."""
        since = now - window
        if link is not None and (by_link := self._links.get(link)) is not None:
            story = self._stories[by_link]
            if story.last_seen >= since and feed not in story.feeds:
                return by_link
        if len(print.words) < MIN_WORDS:
            return None
        best: tuple[float, datetime, int] | None = None
        for story_id in self.candidates(print):
            story = self._stories[story_id]
            if story.last_seen < since or feed in story.feeds:
                continue
            if same_story(print, story.print):
                rank = (similarity(print, story.print), story.last_seen, story_id)
                if best is None or rank > best:
                    best = rank
        return None if best is None else best[2]

    def candidates(self, print_: StoryPrint) -> set[int]:
        """The stories sharing a bucket (of at most `BUCKET_CAP`) with `print_`."""
        found: set[int] = set()
        for band, key in zip(self._buckets, band_keys(print_), strict=True):
            held = band.get(key)
            if isinstance(held, int):
                found.add(held)
            elif held is not None and len(held) <= self.BUCKET_CAP:
                found |= held
        return found

    def expire(self, now: datetime, window: timedelta) -> int:
        """Forget the stories last seen before `now - window`. Returns how many went."""
        since, gone = now - window, 0
        while self._expiry and self._expiry[0][0] < since:
            seen, story_id = heapq.heappop(self._expiry)
            story = self._stories.get(story_id)
            if story is None or story.last_seen != seen:
                continue  # touched since: a later entry stands for it
            self._remove(story_id, story)
            gone += 1
        return gone

    def _remove(self, story_id: int, story: _Story) -> None:
        del self._stories[story_id]
        if story.link is not None and self._links.get(story.link) == story_id:
            del self._links[story.link]
        if not story.indexed:
            return
        for band, key in zip(self._buckets, band_keys(story.print), strict=True):
            held = band[key]
            if isinstance(held, int):
                del band[key]
                continue
            held.discard(story_id)
            if len(held) == 1:
                band[key] = held.pop()


class StoryFiling:
    """What the store asks when it files a matched item (a `monitor.store.Filing`), backed
    by a `StoryIndex` of the window: loaded once, then kept up to date with the stories any
    daemon made or joined since the last look, so picking a story never scans the window.

    `margin` covers polls that started before the last look and were stored after it (their
    stories carry the poll's start as last-seen time): at least the longest a poll may take.
    """

    def __init__(self, margin: timedelta = timedelta(minutes=5)) -> None:
        self.index = StoryIndex()
        self.margin = margin
        self._seen_id = 0  # the highest story id the index has learned of
        self._looked: datetime | None = None  # when the index last caught up
        self._lock = threading.Lock()  # polls store in threads

    def fingerprint(self, title: str, summary: str, language: str | None) -> list[str]:
        return list(story_words(title, summary, language))

    def wanted(self, now: datetime, window: timedelta) -> Wanted:
        with self._lock:
            if self._looked is None:  # the first look: the whole window
                return Wanted(self._seen_id, now - window)
            return Wanted(self._seen_id, min(self._looked, now) - self.margin)

    def catch_up(self, stories: Sequence[StorySnapshot], now: datetime, window: timedelta) -> None:
        with self._lock:
            self.index.expire(now, window)
            for story in stories:
                if story.id in self.index:
                    for feed in story.feeds:
                        self.index.touch(story.id, feed, story.last_seen)
                else:
                    self.index.add(
                        story.id,
                        StoryPrint.from_json(story.words),
                        story.feeds,
                        story.link,
                        story.last_seen,
                    )
                self._seen_id = max(self._seen_id, story.id)
            self._looked = now

    def knows(self, story_id: int) -> bool:
        with self._lock:
            return story_id in self.index

    def pick(
        self, words: Sequence[str], link: str | None, feed: str, now: datetime, window: timedelta
    ) -> int | None:
        with self._lock:
            return self.index.find(StoryPrint.from_json(words), feed, link, now, window)

    def accepts(self, story: StorySnapshot, feed: str, now: datetime, window: timedelta) -> bool:
        """Two items of one feed are never one story; a story gone quiet is closed."""
        return feed not in story.feeds and story.last_seen >= now - window

    def escalates(self, first: str, later: str) -> bool:
        """A copy alerts again only when the rule was raised since the first alert."""
        return LEVELS.index(as_level(later)) > LEVELS.index(as_level(first))


def _compared(a: StoryPrint, b: StoryPrint) -> tuple[frozenset[str], frozenset[str]]:
    return (a.words, b.words) if a.lead and b.lead else (a.title, b.title)


def _cover(title: frozenset[str], words: frozenset[str]) -> float:
    # no headline, nothing to contradict: the words of the lead decide
    return len(title & words) / len(title) if title else 1.0


def _headlines_differ(a: StoryPrint, b: StoryPrint) -> bool:
    return bool(a.title - b.words and b.title - a.words)


def _figures_differ(a: StoryPrint, b: StoryPrint) -> bool:
    mine, theirs = _figures(a.title), _figures(b.title)
    return bool(mine and theirs and not mine & b.words and not theirs & a.words)


def _figures(words: frozenset[str]) -> frozenset[str]:
    return frozenset(word for word in words if word[0].isdigit())
