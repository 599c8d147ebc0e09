"""The dashboard's queries use indexes, on SQLite and PostgreSQL: EXPLAIN shows the matches
page reaching `match` through an index (newest first without a sort, for the unfiltered
page and the rule and level filters) and the daily counts read from a covering index.

On PostgreSQL the test tables are tiny, so sequential scans, bitmap scans and sorts are
switched off for the EXPLAIN: the plan then shows whether an index *can* serve the query
(with none, PostgreSQL still scans and sorts, and the test fails).
"""

from datetime import date

import pytest

from monitor import store
from monitor.store import Database
from tests.webdata import ARMS, fill

SORTED_BY_INDEX = {
    "newest first": (store.MatchFilter(), "match_pkey", "INTEGER PRIMARY KEY"),
    "one rule": (store.MatchFilter(rule=ARMS), "ix_match_rule_id_id", "INDEX ix_match_rule_id_id"),
    "one level": (store.MatchFilter(level="high"), "ix_match_level_id", "INDEX ix_match_level_id"),
}
OTHER_FILTERS = [
    store.MatchFilter(feed="wire-a"),
    store.MatchFilter(language="en"),
    store.MatchFilter(feedback="relevant"),
    store.MatchFilter(feedback="unmarked"),
    store.MatchFilter(rule=ARMS, level="high", feedback="not-relevant"),
]


def explain(db: Database, statement: object) -> str:
    compiled = statement.compile(  # type: ignore[attr-defined]
        dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}
    )
    with db.engine.connect() as conn:
        if db.dialect == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}")
            return "\n".join(str(row[-1]) for row in rows)
        for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
            conn.exec_driver_sql(f"SET {setting} = off")
        return "\n".join(str(row[0]) for row in conn.exec_driver_sql(f"EXPLAIN {compiled}"))


def reaches_match_by_index(db: Database, plan: str) -> bool:
    """`match` is searched by an index, or walked in primary-key order (SQLite's plain
    "SCAN match" with no sort after it: newest first, stopping at the page's end)."""
    if db.dialect == "sqlite":
        lines = [line for line in plan.splitlines() if " match " in f"{line} "]
        ordered_walk = "TEMP B-TREE FOR ORDER BY" not in plan
        return bool(lines) and all(" USING " in line or ordered_walk for line in lines)
    return "Seq Scan" not in plan and "on match" in plan


def test_the_marked_matches_are_found_from_the_marks(db: Database) -> None:
    fill(db)

    plan = explain(db, store.match_page_query(store.MatchFilter(feedback="relevant"), None, 50))

    if db.dialect == "sqlite":
        assert "SEARCH feedback USING COVERING INDEX ix_feedback_relevant_match_id" in plan
        assert "SEARCH match USING INTEGER PRIMARY KEY (rowid=?)" in plan
    else:
        assert "using ix_feedback_relevant_match_id on feedback" in plan, plan


@pytest.mark.parametrize("case", sorted(SORTED_BY_INDEX))
def test_the_matches_page_pages_newest_first_by_an_index_without_sorting(
    db: Database, case: str
) -> None:
    fill(db)
    filters, pg_index, sqlite_index = SORTED_BY_INDEX[case]

    plan = explain(db, store.match_page_query(filters, before=40, limit=50))

    assert reaches_match_by_index(db, plan), plan
    if db.dialect == "sqlite":
        assert f"SEARCH match USING {sqlite_index}" in plan, plan
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
    else:
        assert f"Index Scan Backward using {pg_index} on match" in plan, plan
        assert "Sort" not in plan, plan


@pytest.mark.parametrize("filters", OTHER_FILTERS, ids=repr)
def test_every_filter_reaches_matches_through_an_index(
    db: Database, filters: store.MatchFilter
) -> None:
    fill(db)

    plan = explain(db, store.match_page_query(filters, before=None, limit=50))

    assert reaches_match_by_index(db, plan), plan


def test_the_daily_counts_read_only_the_covering_index(db: Database) -> None:
    fill(db)

    plan = explain(db, store.daily_counts_query(db, date(2026, 9, 1), date(2026, 11, 30)))

    if db.dialect == "sqlite":
        assert "SEARCH match USING COVERING INDEX ix_match_matched_at_rule_id" in plan, plan
    else:
        assert "Index Only Scan using ix_match_matched_at_rule_id on match" in plan, plan
