"""Storage: the only SQLModel/SQLAlchemy user. SQLite (WAL) by default, PostgreSQL by URL.

Persistence only: tables, queries and migrations. It computes no similarity and makes no
alerting decision; where storing needs one (which story a match joins, whether a repeat
escalates) the caller passes a `Filing` that decides.

Callers pass a `Database` and get `monitor.model` values or small views back; no session or
row object leaves this package.
"""

from monitor.store.daemons import DaemonView, Health, beat, check_health, forget, list_daemons
from monitor.store.dashboard import (
    DayCount,
    FeedLine,
    MatchDetail,
    MatchFilter,
    MatchView,
    StoryMember,
    StoryView,
    daily_counts,
    daily_counts_query,
    feed_lines,
    match_detail,
    match_page,
    match_page_query,
    story_detail,
)
from monitor.store.database import Database
from monitor.store.deliveries import (
    AttemptView,
    DeliveryLine,
    delivery_counts,
    delivery_page,
    delivery_status,
    list_deliveries,
)
from monitor.store.feedback import (
    Feedback,
    Marked,
    RulePrecision,
    Tally,
    clear_feedback,
    feedback_for,
    marked_items,
    rule_precision,
    set_feedback,
)
from monitor.store.feeds import (
    FeedView,
    HostLimit,
    add_feeds,
    claim_due_feeds,
    list_feeds,
    release_leases,
    sync_feeds,
)
from monitor.store.health import FeedHealth, Queued, feed_health, file_feed_notices
from monitor.store.matches import Recorded, StoredMatch, recent_matches, recorded_items
from monitor.store.metrics import FeedFreshness, Numbers, scrape_numbers
from monitor.store.outbox import (
    Due,
    Silence,
    active_silences,
    add_silence,
    claim_due_deliveries,
    enqueue_notice,
    mark,
    record_attempt,
    release_deliveries,
    remove_silence,
    retry_deliveries,
    sent_since,
)
from monitor.store.pages import Page
from monitor.store.polls import StoredItem, recent_items, save_poll
from monitor.store.retention import Cutoffs, Pruned, prune
from monitor.store.stories import Filing, StorySnapshot, Wanted

__all__ = [
    "AttemptView",
    "Cutoffs",
    "DaemonView",
    "Database",
    "DayCount",
    "DeliveryLine",
    "Due",
    "FeedFreshness",
    "FeedHealth",
    "FeedLine",
    "FeedView",
    "Feedback",
    "Filing",
    "Health",
    "HostLimit",
    "Marked",
    "MatchDetail",
    "MatchFilter",
    "MatchView",
    "Numbers",
    "Page",
    "Pruned",
    "Queued",
    "Recorded",
    "RulePrecision",
    "Silence",
    "StoredItem",
    "StoredMatch",
    "StoryMember",
    "StorySnapshot",
    "StoryView",
    "Tally",
    "Wanted",
    "active_silences",
    "add_feeds",
    "add_silence",
    "beat",
    "check_health",
    "claim_due_deliveries",
    "claim_due_feeds",
    "clear_feedback",
    "daily_counts",
    "daily_counts_query",
    "delivery_counts",
    "delivery_page",
    "delivery_status",
    "enqueue_notice",
    "feed_health",
    "feed_lines",
    "feedback_for",
    "file_feed_notices",
    "forget",
    "list_daemons",
    "list_deliveries",
    "list_feeds",
    "mark",
    "marked_items",
    "match_detail",
    "match_page",
    "match_page_query",
    "prune",
    "recent_items",
    "recent_matches",
    "record_attempt",
    "recorded_items",
    "release_deliveries",
    "release_leases",
    "remove_silence",
    "retry_deliveries",
    "rule_precision",
    "save_poll",
    "scrape_numbers",
    "sent_since",
    "set_feedback",
    "story_detail",
    "sync_feeds",
]
