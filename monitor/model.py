"""Values that flow between pipeline stages: frozen, typed, free of I/O."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

Outcome = Literal["ok", "not-modified", "unchanged", "error", "gone"]
Level = Literal["low", "medium", "high", "critical"]
LEVELS: tuple[Level, ...] = ("low", "medium", "high", "critical")  # lowest first
DateSource = Literal["feed", "fetched", "clamped"]


def as_level(text: str) -> Level:
    """`text` (as stored) as a `Level`. Raises ValueError for anything else."""
    for level in LEVELS:
        if text == level:
            return level
    raise ValueError(f"'{text}' is not a level ({', '.join(LEVELS)})")


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP cache validators remembered from the last successful fetch."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What the server answered. `body` is None for 304 Not Modified."""

    url: str  # after redirects
    status: int
    body: bytes | None
    validators: Validators
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def not_modified(self) -> bool:
        return self.body is None


@dataclass(frozen=True, slots=True)
class Entry:
    """One feed entry as the parser found it, before any cleaning."""

    guid: str | None
    link: str | None
    title: str | None
    summary_html: str | None
    content_html: str | None
    author: str | None
    published: datetime | None  # aware UTC, None when missing or unparseable
    date_text: str | None  # the date string as written in the feed
    tags: tuple[str, ...] = ()
    language: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    entries: tuple[Entry, ...]
    title: str | None
    language: str | None
    version: str
    bozo: str | None  # why the document is not well-formed, when the parser still got entries


@dataclass(frozen=True, slots=True)
class Item:
    """A normalised entry: plain NFKC text, aware-UTC date, canonical link, stable key."""

    key: str  # stable per feed: hash of guid, else link, else title and date
    guid: str | None
    link: str | None
    title: str
    summary: str
    author: str | None
    published_at: datetime
    date_source: DateSource
    language: str | None
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a rule fired: one word or phrase, where it is and what it stands for."""

    kind: str  # actor | vocab | regex
    ref: str  # actor id, vocabulary set id or the regex
    text: str  # as written in the item
    start: int  # offsets in the item text (title, newline, summary)
    end: int
    via: str = ""  # for actors: name | place | media | official:<role>


@dataclass(frozen=True, slots=True)
class Match:
    rule: str
    version: str
    level: Level
    score: float
    item_key: str
    sentence: str
    evidence: tuple[Evidence, ...]
    targets: tuple[str, ...] = ()  # where alerts for it go (routing is done by the pipeline)
    rule_title: str = ""  # kept with the alert, so it reads the same after the rule changes
    # the item's story fingerprint (monitor.alerts.stories), made where it was matched so
    # that the process storing it does not have to
    story_words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Alert:
    """Everything a message about one delivery is rendered from."""

    delivery_id: int
    target: str
    rule: str
    rule_title: str
    level: Level
    score: float
    title: str
    link: str | None
    feed: str
    published_at: datetime
    sentence: str
    evidence: tuple[Evidence, ...]
    sources: int  # outlets that reported the story so far
    match_id: int | None = None  # its page on the dashboard, when web.base_url is set


@dataclass(frozen=True, slots=True)
class Notice:
    """An alert about monitor itself rather than a match: a feed down, a feed back."""

    delivery_id: int
    target: str
    kind: str  # feed-down | feed-up
    level: Level
    title: str
    lines: tuple[str, ...]  # the body, one fact per line
    link: str | None = None


@dataclass(frozen=True, slots=True)
class FeedState:
    """A feed's row as the scheduler and the pipeline see it."""

    id: int
    name: str
    url: str
    status: str
    validators: Validators
    body_hash: str | None
    consecutive_failures: int
    next_poll_at: datetime


@dataclass(frozen=True, slots=True)
class PollResult:
    """Everything one poll learned, ready to be stored in one transaction."""

    feed_id: int
    started_at: datetime
    finished_at: datetime
    outcome: Outcome
    next_poll_at: datetime
    http_status: int | None = None
    validators: Validators | None = None  # None: keep the stored ones
    body_hash: str | None = None
    body_bytes: int = 0
    items: tuple[Item, ...] = ()
    error_kind: str | None = None
    error: str | None = None
    bozo: str | None = None
    feed_title: str | None = None
    matches: tuple[Match, ...] = ()  # of all items; only those of new items are stored
    story_window: timedelta = timedelta(hours=72)  # how far back copies join a story

    @property
    def duration(self) -> timedelta:
        return self.finished_at - self.started_at


@dataclass(frozen=True, slots=True)
class PollReport:
    """What a poll did, for logs and the CLI."""

    feed: str
    outcome: Outcome
    items_seen: int
    items_new: int
    duration: timedelta
    matches_new: int = 0
    error_kind: str | None = None
    error: str | None = None
    http_status: int | None = None
