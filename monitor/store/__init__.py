"""Storage: the only SQLModel/SQLAlchemy user. SQLite (WAL) by default, PostgreSQL by URL.

Persistence only: tables, queries and migrations. It computes no similarity and makes no
alerting decision; where storing needs one (which story a match joins, whether a repeat
escalates) the caller passes a `Filing` that decides.

Callers pass a `Database` and get `monitor.model` values or small views back; no session or
row object leaves this package.
"""

from monitor.store.daemons import Health, beat, check_health, forget
from monitor.store.database import Database
from monitor.store.feeds import FeedView, claim_due_feeds, list_feeds, release_leases, sync_feeds
from monitor.store.matches import Recorded, StoredMatch, recent_matches, recorded_items
from monitor.store.outbox import (
    DeliveryView,
    Due,
    Silence,
    active_silences,
    add_silence,
    claim_due_deliveries,
    list_deliveries,
    mark,
    record_attempt,
    remove_silence,
    retry_deliveries,
    sent_since,
)
from monitor.store.polls import StoredItem, prune_history, recent_items, save_poll
from monitor.store.stories import Filing, StorySnapshot

__all__ = [
    "Database",
    "DeliveryView",
    "Due",
    "FeedView",
    "Filing",
    "Health",
    "Recorded",
    "Silence",
    "StoredItem",
    "StoredMatch",
    "StorySnapshot",
    "active_silences",
    "add_silence",
    "beat",
    "check_health",
    "claim_due_deliveries",
    "claim_due_feeds",
    "forget",
    "list_deliveries",
    "list_feeds",
    "mark",
    "prune_history",
    "recent_items",
    "recent_matches",
    "record_attempt",
    "recorded_items",
    "release_leases",
    "remove_silence",
    "retry_deliveries",
    "save_poll",
    "sent_since",
    "sync_feeds",
]
