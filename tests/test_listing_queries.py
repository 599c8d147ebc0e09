"""The listing commands' queries (`monitor items`, `matches`, `feeds`, `alerts`) use indexes
on SQLite and PostgreSQL, so they answer as fast with a million items as with a hundred:
each SELECT the store runs for them is captured and shown to EXPLAIN. `monitor feeds` reads
the feed rows alone (each keeps its item count) and never scans `item`.

On PostgreSQL the test tables are tiny, so sequential scans, bitmap scans and sorts are
switched off for the EXPLAIN: the plan then shows whether an index *can* serve the query.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from monitor import store
from monitor.store import Database
from tests.webdata import fill


@contextmanager
def selects(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """The SELECT statements (with their parameters) run while the block runs."""
    seen: list[tuple[str, Any]] = []

    def capture(_conn: object, _cursor: object, statement: str, params: Any, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)


def plan(db: Database, statement: str, params: Any) -> str:
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if db.dialect == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + statement, params)
            return "\n".join(str(row[3]) for row in cursor.fetchall())
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            cursor.execute(f"SET {setting} = off")
        cursor.execute("EXPLAIN " + statement, params)
        return "\n".join(str(row[0]) for row in cursor.fetchall())
    finally:
        raw.rollback()
        raw.close()


LISTINGS: dict[str, tuple[Callable[[Database], object], str, str]] = {
    # command: (the store call, SQLite's plan must say, PostgreSQL's must say)
    "items": (
        lambda db: store.recent_items(db, 20),
        "SCAN item USING INDEX ix_item_published_at",
        "Index Scan Backward using ix_item_published_at on item",
    ),
    "matches": (
        lambda db: store.recent_matches(db, 20),
        "SCAN match USING INDEX ix_match_matched_at",
        "Index Scan Backward using ix_match_matched_at",  # or its (matched_at, rule_id) twin
    ),
    "alerts": (
        lambda db: store.list_deliveries(db, 30),
        "SCAN delivery",  # by rowid, newest first: the primary key
        "Index Scan Backward using delivery_pkey on delivery",
    ),
}


@pytest.mark.parametrize("command", sorted(LISTINGS))
def test_a_listing_walks_an_index_newest_first(db: Database, command: str) -> None:
    fill(db)
    call, on_sqlite, on_postgresql = LISTINGS[command]

    with selects(db) as seen:
        call(db)
    first = plan(db, *seen[0])

    assert (on_sqlite if db.dialect == "sqlite" else on_postgresql) in first, first
    if db.dialect == "sqlite":
        assert "USE TEMP B-TREE FOR ORDER BY" not in first  # no sort of the whole table


def test_the_feeds_listing_never_reads_the_items(db: Database) -> None:
    fill(db)

    with selects(db) as seen:
        store.list_feeds(db, include_inactive=True)

    plans = [plan(db, statement, params) for statement, params in seen]
    assert seen and all(" item" not in f"{statement} " for statement, _ in seen), seen
    assert all("item" not in p for p in plans), plans
