"""Database tables. Rows never leave monitor.store: callers get monitor.model values."""

from datetime import datetime

from sqlalchemy import JSON, Column, Index, Table, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a model, for statements that run as plain executemany, without
    the ORM's per-row work."""
    found: Table = model.__table__  # type: ignore[attr-defined]  # set by table=True
    return found


class FeedRow(SQLModel, table=True):
    """A feed from the config, with its polling state."""

    __tablename__ = "feed"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    url: str = Field(sa_column=Column(Text, nullable=False))
    host: str = Field(default="", max_length=255, index=True)  # the URL's, for per-host claims
    interval_s: int
    language: str | None = Field(default=None, max_length=16)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True  # still listed in the config
    status: str = Field(default="new", max_length=16)  # new | ok | error | gone
    etag: str | None = Field(default=None, sa_column=Column(Text))
    last_modified: str | None = Field(default=None, max_length=64)
    body_hash: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, sa_column=Column(Text))
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error_kind: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    consecutive_failures: int = 0
    # Kept with every insert and prune, so that listing feeds does not count a million items.
    item_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    failing_since: datetime | None = None  # first failure of the current run of failures
    health_alerted_at: datetime | None = None  # a "feed down" notice went out for that run
    next_poll_at: datetime = Field(index=True)
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = None
    created_at: datetime


class ItemRow(SQLModel, table=True):
    """One entry of one feed; (feed_id, key) is unique so a re-poll stores nothing twice."""

    __tablename__ = "item"
    __table_args__ = (UniqueConstraint("feed_id", "key", name="uq_item_feed_key"),)

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feed.id", index=True)
    key: str = Field(max_length=64)
    guid: str | None = Field(default=None, sa_column=Column(Text))
    link: str | None = Field(default=None, sa_column=Column(Text))
    title: str = Field(sa_column=Column(Text, nullable=False))
    summary: str = Field(sa_column=Column(Text, nullable=False))
    author: str | None = Field(default=None, sa_column=Column(Text))
    published_at: datetime = Field(index=True)
    date_source: str = Field(max_length=16)
    language: str | None = Field(default=None, max_length=16)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    fetched_at: datetime = Field(index=True)


class PollRow(SQLModel, table=True):
    """One poll of one feed: what happened and how long it took."""

    __tablename__ = "poll"

    id: int | None = Field(default=None, primary_key=True)
    feed_id: int = Field(foreign_key="feed.id", index=True)
    started_at: datetime = Field(index=True)
    duration_ms: int
    outcome: str = Field(max_length=16)
    http_status: int | None = None
    bytes: int = 0
    items_seen: int = 0
    items_new: int = 0
    error_kind: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, sa_column=Column(Text))
    bozo: str | None = Field(default=None, sa_column=Column(Text))  # parser's complaint


class DaemonRow(SQLModel, table=True):
    """A running daemon's heartbeat, read by `monitor health`."""

    __tablename__ = "daemon"

    owner: str = Field(primary_key=True, max_length=128)
    host: str = Field(max_length=255)
    pid: int
    version: str = Field(max_length=32)
    started_at: datetime
    heartbeat_at: datetime


class MatchRow(SQLModel, table=True):
    """A rule that fired on an item, with the evidence that made it fire."""

    __tablename__ = "match"
    __table_args__ = (
        UniqueConstraint("item_id", "rule_id", name="uq_match_item_rule"),
        # the dashboard: pages by id within a rule or level, counts per day and rule
        Index("ix_match_rule_id_id", "rule_id", "id"),
        Index("ix_match_level_id", "level", "id"),
        Index("ix_match_matched_at_rule_id", "matched_at", "rule_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="item.id", index=True)
    rule_id: str = Field(max_length=64, index=True)
    rule_version: str = Field(max_length=16)
    level: str = Field(max_length=16)
    score: float
    sentence: str = Field(sa_column=Column(Text, nullable=False))
    evidence: list[dict[str, object]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    matched_at: datetime = Field(index=True)
    story_id: int | None = Field(default=None, foreign_key="story.id", index=True)


class StoryRow(SQLModel, table=True):
    """Near-duplicate items (the same report from several outlets) grouped as one story."""

    __tablename__ = "story"

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_column=Column(Text, nullable=False))
    link: str | None = Field(default=None, sa_column=Column(Text))
    words: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    feeds: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    items: int = 1
    first_seen: datetime
    last_seen: datetime = Field(index=True)


class DeliveryRow(SQLModel, table=True):
    """One alert for one target: the outbox. Written with its match, sent by the sender."""

    __tablename__ = "delivery"
    __table_args__ = (Index("ix_delivery_status_id", "status", "id"),)  # the alerts page

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)  # rule:story:target, so nothing repeats
    kind: str = Field(default="match", max_length=16)  # match | notice
    match_id: int | None = Field(default=None, foreign_key="match.id", index=True)
    story_id: int | None = Field(default=None, foreign_key="story.id", index=True)
    notice: dict[str, object] | None = Field(default=None, sa_column=Column(JSON))
    rule_id: str = Field(max_length=64)
    rule_title: str | None = Field(default=None, sa_column=Column(Text))
    target: str = Field(max_length=64, index=True)
    level: str = Field(max_length=16)
    status: str = Field(max_length=16, index=True)  # pending|sent|dead|silenced
    attempts: int = 0
    next_attempt_at: datetime = Field(index=True)
    lease_owner: str | None = Field(default=None, max_length=128)
    lease_until: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime
    pending_since: datetime  # the cut-off counts from here (reset by `alerts retry`)
    sent_at: datetime | None = None


class AttemptRow(SQLModel, table=True):
    """Every delivery attempt, kept for `monitor alerts`."""

    __tablename__ = "attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="delivery.id", index=True)
    at: datetime
    ok: bool
    error: str | None = Field(default=None, sa_column=Column(Text))


class SilenceRow(SQLModel, table=True):
    """A user's "not now" for a rule (or every rule), set with `monitor silence add`."""

    __tablename__ = "silence"

    id: int | None = Field(default=None, primary_key=True)
    rule_id: str | None = Field(default=None, max_length=64)  # None: every rule
    until: datetime = Field(index=True)
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime


class FeedbackRow(SQLModel, table=True):
    """An analyst's verdict on a match (one per match; marking again replaces it), kept
    with the rule version it judged, so precision can be told per version."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_relevant_match_id", "relevant", "match_id"),)

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="match.id", unique=True)
    rule_id: str = Field(max_length=64)
    rule_version: str = Field(max_length=16)
    relevant: bool
    note: str | None = Field(default=None, sa_column=Column(Text))
    marked_at: datetime
