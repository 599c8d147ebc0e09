"""Dashboard query latencies at a million items, against a naive OFFSET pager.

Fills a fresh database (SQLite in a temp folder by default, or --url) with N items over
180 days in 25 feeds, a share of them matched by one of 10 rules (skewed: the busiest rule
has half), one story and one delivery per match, some marked by an analyst and a month of
poll history; then times each page's query through monitor.store (median of --repeat runs
after one warm-up) next to the same page fetched with ORDER BY id DESC OFFSET … LIMIT 50.

    .venv/bin/python bench/web_queries.py                       # 1,000,000 items, SQLite
    .venv/bin/python bench/web_queries.py --url postgresql://postgres@127.0.0.1:5432/bench
"""

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text

from monitor import store
from monitor.store.dashboard import _match_view
from monitor.store.tables import (
    AttemptRow,
    DeliveryRow,
    FeedbackRow,
    FeedRow,
    ItemRow,
    MatchRow,
    PollRow,
    StoryRow,
)
from monitor.web.metrics import BUCKETS_MS

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
FEEDS = 25
RULES = [f"rule-{i:02d}" for i in range(10)]
RULE_WEIGHTS = [50, 15, 10, 7, 5, 4, 3, 3, 2, 1]
LEVELS = ["low", "medium", "high", "critical"]
LANGUAGES = ["en", "en", "en", "ko", "ru", "zh", "ja", "tr"]
BATCH = 10_000
PAGE = 50


def fill(db: store.Database, items: int, share: float, seed: int = 7) -> dict[str, int]:
    rng = random.Random(seed)
    start = NOW - timedelta(days=180)
    step = timedelta(days=180) / items
    with db.engine.begin() as conn:
        conn.execute(
            insert(FeedRow),
            [
                {
                    "id": f + 1,
                    "name": f"feed-{f:02d}",
                    "url": f"https://news{f}.example.org/rss",
                    "host": f"news{f}.example.org",
                    "interval_s": 900,
                    "language": LANGUAGES[f % len(LANGUAGES)],
                    "tags": [],
                    "active": True,
                    "status": "error" if f == 3 else "ok",
                    "next_poll_at": NOW,
                    "last_success_at": NOW - timedelta(minutes=f),
                    "created_at": start,
                    "consecutive_failures": 2 if f == 3 else 0,
                }
                for f in range(FEEDS)
            ],
        )
    matched = 0
    match_id = 0
    for base in range(0, items, BATCH):
        item_rows, story_rows, match_rows, delivery_rows, marks = [], [], [], [], []
        for i in range(base, min(items, base + BATCH)):
            when = start + step * i
            feed = rng.randrange(FEEDS)
            item_rows.append(
                {
                    "id": i + 1,
                    "feed_id": feed + 1,
                    "key": f"k{i}",
                    "guid": f"g{i}",
                    "link": f"https://news{feed}.example.org/{i}",
                    "title": f"Report {i}: officials meet over the border question",
                    "summary": "Officials met on Tuesday to discuss the border. " * 4,
                    "published_at": when,
                    "date_source": "feed",
                    "language": LANGUAGES[feed % len(LANGUAGES)],
                    "tags": [],
                    "fetched_at": when,
                }
            )
            if rng.random() >= share:
                continue
            match_id += 1
            rule = rng.choices(RULES, RULE_WEIGHTS)[0]
            story_rows.append(
                {
                    "id": match_id,
                    "title": f"Report {i}",
                    "link": None,
                    "words": [],
                    "feeds": [f"feed-{feed:02d}"],
                    "items": 1,
                    "first_seen": when,
                    "last_seen": when,
                }
            )
            match_rows.append(
                {
                    "id": match_id,
                    "item_id": i + 1,
                    "rule_id": rule,
                    "rule_version": "v1",
                    "level": LEVELS[RULES.index(rule) % 4],
                    "score": 0.8,
                    "sentence": f"Report {i}: officials meet over the border question",
                    "evidence": [{"kind": "actor", "ref": "ALP", "text": "officials"}],
                    "matched_at": when,
                    "story_id": match_id,
                }
            )
            delivery_rows.append(
                {
                    "id": match_id,
                    "key": f"{rule}:{match_id}:desk",
                    "kind": "match",
                    "match_id": match_id,
                    "story_id": match_id,
                    "rule_id": rule,
                    "target": "desk",
                    "level": "high",
                    "status": "dead" if match_id % 500 == 0 else "sent",
                    "attempts": 1,
                    "next_attempt_at": when,
                    "created_at": when,
                    "pending_since": when,
                    "sent_at": when,
                }
            )
            if rng.random() < 0.04:
                marks.append(
                    {
                        "match_id": match_id,
                        "rule_id": rule,
                        "rule_version": "v1",
                        "relevant": rng.random() < 0.8,
                        "marked_at": when,
                    }
                )
        with db.engine.begin() as conn:
            conn.execute(insert(ItemRow), item_rows)
            for table, rows in (
                (StoryRow, story_rows),
                (MatchRow, match_rows),
                (DeliveryRow, delivery_rows),
                (FeedbackRow, marks),
            ):
                if rows:
                    conn.execute(insert(table), rows)
        matched += len(match_rows)
    with db.engine.begin() as conn:
        conn.execute(
            insert(AttemptRow),
            [{"delivery_id": d, "at": NOW, "ok": True} for d in range(1, match_id + 1)],
        )
        polls = [
            {
                "feed_id": f + 1,
                "started_at": NOW - timedelta(minutes=15 * n),
                "duration_ms": rng.randrange(50, 3000),
                "outcome": "ok" if rng.random() < 0.9 else "not-modified",
                "bytes": 1000,
            }
            for f in range(FEEDS)
            for n in range(96 * 30)
        ]
        conn.execute(insert(PollRow), polls)
        if db.dialect == "postgresql":
            for name in ("feed", "item", "story", "match", "delivery", "attempt", "feedback"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f'(SELECT max(id) FROM "{name}"))'
                    )
                )
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE" if db.dialect == "sqlite" else "VACUUM ANALYZE"))
    return {"items": items, "matches": matched, "polls": len(polls)}


def timed(run: Callable[[], Any], repeat: int) -> float:
    run()  # warm-up: the pages a user has just looked at are in the cache too
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        run()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


def naive_page(db: store.Database, filters: store.MatchFilter, offset: int) -> Callable[[], Any]:
    """The same page, the same rows built the same way, reached with OFFSET."""
    statement = store.match_page_query(filters, None, PAGE - 1).offset(offset)

    def run() -> list[Any]:
        with db.session() as session:
            return [_match_view(row) for row in session.execute(statement)]

    return run


def keyset_page(
    db: store.Database, filters: store.MatchFilter, before: int | None
) -> Callable[[], Any]:
    return lambda: store.match_page(db, filters, before, PAGE)


def cursor_at(db: store.Database, filters: store.MatchFilter, offset: int) -> int | None:
    """The `before` id that starts the page at `offset` (found once, not timed: a user
    reaches page N by following N "older" links, each handing over its cursor)."""
    if offset == 0:
        return None
    statement = store.match_page_query(filters, None, 0).offset(offset - 1)
    with db.engine.connect() as conn:
        row = conn.execute(statement).first()
    assert row is not None, "not that many matches"
    return int(row[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--match-share", type=float, default=0.05)
    parser.add_argument("--url", help="database URL (default: SQLite in a temp folder)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp(prefix='monitor-bench-')}/bench.db"
    db = store.Database(url)
    db.upgrade()
    began = time.perf_counter()
    sizes = fill(db, args.items, args.match_share)
    print(
        f"filled {sizes['items']:,} items, {sizes['matches']:,} matches, "
        f"{sizes['polls']:,} polls on {db.dialect} in {time.perf_counter() - began:.0f} s"
    )
    deep = (sizes["matches"] // 2) // PAGE * PAGE  # the middle of the history
    rare = store.MatchFilter(rule=RULES[-1])
    cases: list[tuple[str, store.MatchFilter, int]] = [
        ("matches, first page", store.MatchFilter(), 0),
        (f"matches, page {deep // PAGE + 1} (offset {deep:,})", store.MatchFilter(), deep),
        ("busiest rule, first page", store.MatchFilter(rule=RULES[0]), 0),
        ("busiest rule, middle page", store.MatchFilter(rule=RULES[0]), deep // 2 // PAGE * PAGE),
        ("rarest rule, last page", rare, _last_offset(db, rare)),
        ("one feed, first page", store.MatchFilter(feed="feed-07"), 0),
        ("language ko, first page", store.MatchFilter(language="ko"), 0),
        ("marked relevant, first page", store.MatchFilter(feedback="relevant"), 0),
        (
            "level critical, 30 days",
            store.MatchFilter(level="critical", since=NOW - timedelta(days=30)),
            0,
        ),
    ]
    print(f"\n| page ({args.repeat} runs, median) | monitor (keyset) | naive OFFSET |")
    print("|---|---|---|")
    for label, filters, offset in cases:
        before = cursor_at(db, filters, offset)
        keyset = timed(keyset_page(db, filters, before), args.repeat)
        naive = timed(naive_page(db, filters, offset), args.repeat)
        print(f"| {label} | {keyset:.1f} ms | {naive:.1f} ms |")
    today = NOW.date()
    others: list[tuple[str, Callable[[], Any]]] = [
        (
            "overview: matches per day and rule, 90+28 days",
            lambda: store.daily_counts(db, today - timedelta(days=117), today),
        ),
        ("a match with story, alerts, mark", lambda: store.match_detail(db, sizes["matches"] // 3)),
        ("alerts page, dead only", lambda: store.delivery_page(db, status="dead", limit=PAGE)),
        ("alerts page, newest", lambda: store.delivery_page(db, limit=PAGE)),
        ("rules page: precision from the marks", lambda: store.rule_precision(db)),
        ("feeds page (items counted per feed)", lambda: store.list_feeds(db)),
        ("/metrics scrape", lambda: store.scrape_numbers(db, NOW - timedelta(hours=1), BUCKETS_MS)),
    ]
    print("\n| query | latency |")
    print("|---|---|")
    for label, run in others:
        print(f"| {label} | {timed(run, args.repeat):.1f} ms |")


def _last_offset(db: store.Database, filters: store.MatchFilter) -> int:
    count = len(store.match_page(db, filters, None, 1_000_000).rows)
    return max(0, (count - 1) // PAGE * PAGE)


if __name__ == "__main__":
    main()
