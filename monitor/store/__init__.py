"""Storage: the only SQLModel/SQLAlchemy user. SQLite (WAL) by default, PostgreSQL by URL.

Callers pass a `Database` and get `monitor.model` values or small views back; no session or
row object leaves this package.
"""

from monitor.store.daemons import Health, beat, check_health, forget
from monitor.store.database import Database
from monitor.store.feeds import FeedView, claim_due_feeds, list_feeds, release_leases, sync_feeds
from monitor.store.matches import Recorded, StoredMatch, recent_matches, recorded_items
from monitor.store.polls import StoredItem, prune_history, recent_items, save_poll

__all__ = [
    "Database",
    "FeedView",
    "Health",
    "Recorded",
    "StoredItem",
    "StoredMatch",
    "beat",
    "check_health",
    "claim_due_feeds",
    "forget",
    "list_feeds",
    "prune_history",
    "recent_items",
    "recent_matches",
    "recorded_items",
    "release_leases",
    "save_poll",
    "sync_feeds",
]
