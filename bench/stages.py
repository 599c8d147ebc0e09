"""Time each stage of a poll alone, on the items bench/poll_cycle.py serves, next to its
ceiling: what a fast library does with the same input in the same run.

- parse: `monitor.ingest.parse.parse_feed` on every document vs fastfeedparser (lxml) and a
  bare `lxml.etree.iterparse` pulling title, link and description;
- normalize: `normalize_entry` on every entry (and `html_to_text` alone) vs selectolax's
  `LexborHTMLParser(html).text()` on the same HTML;
- match: `match_items` with the seed rules vs one raw pyahocorasick `iter()` pass over the
  case-folded text with the same automaton's words;
- store: `monitor.store.save_poll` per feed, with the matches and without, vs plain driver
  `executemany` of the same rows (one transaction per feed, same schema), on SQLite and on
  PostgreSQL (postgresql://postgres@127.0.0.1:5432/postgres, a fresh database each).

    .venv/bin/python bench/stages.py [--feeds 1000] [--items 30] [--backend sqlite|postgres|both]

The ceilings need the `bench` extra: `.venv/bin/pip install -e '.[bench]'`.
"""

import argparse
import importlib
import io
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from generate import Corpus  # noqa: E402
from poll_cycle import fresh_database, pg_available  # noqa: E402

from monitor import store  # noqa: E402
from monitor.alerts.route import route  # noqa: E402
from monitor.alerts.stories import StoryFiling  # noqa: E402
from monitor.alerts.storyprint import story_words  # noqa: E402
from monitor.engine.lexicon import fold  # noqa: E402
from monitor.engine.loader import load_ruleset  # noqa: E402
from monitor.engine.match import match_items  # noqa: E402
from monitor.engine.ruleset import RuleSet  # noqa: E402
from monitor.ingest.normalize import html_to_text, normalize_entry  # noqa: E402
from monitor.ingest.parse import parse_feed  # noqa: E402
from monitor.model import Item, Match, ParsedFeed, PollResult, Validators  # noqa: E402
from monitor.settings import FeedConfig  # noqa: E402

HEADERS = {"content-type": "application/rss+xml; charset=utf-8"}


class Took(NamedTuple):
    wall: float
    cpu: float  # this process's CPU time: less inflated than wall time by other load


class Row(NamedTuple):
    stage: str
    monitor: Took
    ceiling: Took | None
    items: int
    note: str = ""


def timed(call: Callable[[], Any]) -> tuple[Took, Any]:
    began, cpu = time.perf_counter(), time.process_time()
    value = call()
    return Took(time.perf_counter() - began, time.process_time() - cpu), value


def optional(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


# -- parse -----------------------------------------------------------------------------------


def lxml_pull(lxml_etree: Any, body: bytes) -> int:
    """Titles, links and descriptions of every item/entry with lxml's iterparse."""
    count = 0
    wanted = {"item", "{http://www.w3.org/2005/Atom}entry"}
    context = lxml_etree.iterparse(
        io.BytesIO(body), events=("end",), resolve_entities=False, no_network=True
    )
    for _, element in context:
        if element.tag in wanted:
            fields = {child.tag.rsplit("}", 1)[-1]: child for child in element}
            title = fields.get("title")
            summary = fields.get("description", fields.get("summary"))
            link = fields.get("link")
            _ = (
                title.text if title is not None else None,
                summary.text if summary is not None else None,
                link.get("href") or link.text if link is not None else None,
            )
            count += 1
            element.clear()
    return count


def parse_stage(docs: Sequence[bytes]) -> tuple[list[Row], list[ParsedFeed]]:
    took, parsed = timed(lambda: [parse_feed(d, HEADERS) for d in docs])
    parsed = list(parsed)
    entries = sum(len(p.entries) for p in parsed)
    rows: list[Row] = []
    fast = optional("fastfeedparser")
    etree = optional("lxml.etree")
    if fast is not None:
        ceiling, found = timed(lambda: sum(len(fast.parse(d).entries) for d in docs))
        note = "" if found == entries else f" (fastfeedparser found {found})"
        rows.append(Row("parse: parse_feed vs fastfeedparser", took, ceiling, entries, note))
    if etree is not None:
        ceiling, found = timed(lambda: sum(lxml_pull(etree, d) for d in docs))
        note = "" if found == entries else f" (iterparse found {found})"
        rows.append(Row("parse: parse_feed vs lxml iterparse", took, ceiling, entries, note))
    if not rows:
        rows.append(Row("parse: parse_feed (no lxml: pip install -e '.[bench]')", took, None, 0))
    return rows, parsed


# -- normalize ---------------------------------------------------------------------------------


def normalize_stage(
    parsed: Sequence[ParsedFeed], urls: Sequence[str], now: datetime
) -> tuple[list[Row], list[tuple[Item, ...]]]:
    def normalize_all() -> list[tuple[Item, ...]]:
        out = []
        for feed, url in zip(parsed, urls, strict=True):
            links = Counter(e.link for e in feed.entries if e.link)
            out.append(
                tuple(
                    normalize_entry(
                        e,
                        feed_url=url,
                        feed_language=feed.language,
                        fetched_at=now,
                        link_is_unique=links[e.link] == 1 if e.link else True,
                    )
                    for e in feed.entries
                )
            )
        return out

    entries = [e for feed in parsed for e in feed.entries]
    html = [(e.title or "", e.summary_html or e.content_html or "") for e in entries]
    took, items = timed(normalize_all)
    text_only, _ = timed(lambda: [(html_to_text(t), html_to_text(s)) for t, s in html])
    rows: list[Row] = []
    lexbor = optional("selectolax.lexbor")
    ceiling: Took | None = None
    if lexbor is not None:
        parser = lexbor.LexborHTMLParser
        ceiling, _ = timed(lambda: [(parser(t).text(), parser(s).text()) for t, s in html])
    rows.append(Row("normalize: normalize_entry vs lexbor text()", took, ceiling, len(entries)))
    rows.append(Row("normalize: html_to_text only vs lexbor text()", text_only, ceiling, len(html)))
    return rows, items


# -- match -------------------------------------------------------------------------------------


def automaton_words(lexicon: object) -> list[str]:
    """Every word of the lexicon's surface automata (one, or one per language, whatever
    attribute holds them; not the lemma automata): the words monitor's own pass looks for."""
    found: set[str] = set()
    for name, value in vars(lexicon).items():
        if "lemma" in name:
            continue
        for candidate in value.values() if isinstance(value, dict) else (value,):
            if type(candidate).__name__ == "Automaton":
                found.update(candidate.keys())
    return sorted(found)


def match_stage(
    ruleset: RuleSet, items: Sequence[tuple[Item, ...]], expected: int
) -> tuple[list[Row], list[tuple[Match, ...]]]:
    ahocorasick = importlib.import_module("ahocorasick")
    # the first items pay for what the rule set builds lazily (language model, lemma tables)
    warm_up, _ = timed(lambda: match_items(ruleset, items[0]))
    took, found = timed(lambda: [tuple(match_items(ruleset, feed)) for feed in items])
    words = automaton_words(ruleset.lexicon)
    automaton = ahocorasick.Automaton()
    for word in words:
        automaton.add_word(word, len(word))
    automaton.make_automaton()
    flat = [item for feed in items for item in feed]

    def raw_pass() -> int:
        return sum(
            sum(1 for _ in automaton.iter(f"{i.title}\n{i.summary}".casefold())) for i in flat
        )

    ceiling, hits = timed(raw_pass)
    folding, _ = timed(lambda: [fold(f"{i.title}\n{i.summary}") for i in flat])
    matched = {(m.item_key, m.rule) for feed in found for m in feed}
    items_matched = len({key for key, _ in matched})
    note = (
        f" ({len(matched)} matches on {items_matched} items, {expected} written to match;"
        f" {len(words):,} automaton words, {hits:,} raw hits; monitor's fold() alone"
        f" {folding.cpu:.2f} s CPU; first {len(items[0])} items beforehand (warm-up)"
        f" {warm_up.wall:.1f} s)"
    )
    return [Row("match: match_items vs raw Aho–Corasick", took, ceiling, len(flat), note)], found


# -- store -------------------------------------------------------------------------------------


def poll_results(
    states: Sequence[Any],
    items: Sequence[tuple[Item, ...]],
    matches: Sequence[tuple[Match, ...]],
    now: datetime,
) -> list[PollResult]:
    return [
        PollResult(
            feed_id=state.id,
            started_at=now,
            finished_at=now,
            outcome="ok",
            next_poll_at=now + timedelta(hours=1),
            http_status=200,
            validators=Validators(f'"etag-{state.id}"', "Sun, 29 Nov 2026 10:00:00 GMT"),
            body_hash=f"{state.id:064x}",
            body_bytes=50_000,
            items=feed_items,
            matches=feed_matches,
            feed_title=f"Bench outlet {state.id}",
        )
        for state, feed_items, feed_matches in zip(states, items, matches, strict=True)
    ]


def prepared(db: store.Database, feeds: Sequence[FeedConfig], now: datetime) -> list[Any]:
    db.upgrade()
    store.sync_feeds(db, feeds, now)
    states = store.claim_due_feeds(db, "bench", now, timedelta(hours=1), len(feeds))
    by_name = {s.name: s for s in states}
    return [by_name[f.name] for f in feeds]


def monitor_store(url: str, results: Sequence[PollResult], filing: StoryFiling) -> Took:
    db = store.Database(url)
    took, _ = timed(lambda: [store.save_poll(db, r, "bench", filing) for r in results])
    db.dispose()
    return took


def _stamp(value: datetime, dialect: str) -> Any:
    return value if dialect == "postgresql" else value.strftime("%Y-%m-%d %H:%M:%S.%f")


def plain_store(url: str, results: Sequence[PollResult], dialect: str) -> Took:
    """The same rows with the bare driver: executemany, one transaction per feed."""
    if dialect == "postgresql":
        import psycopg
        from psycopg.types.json import Json

        conn: Any = psycopg.connect(url)
        mark, as_json = "%s", Json
    else:
        import sqlite3

        path = url.removeprefix("sqlite:///")
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        mark, as_json = "?", json.dumps  # type: ignore[assignment]

    def sql(statement: str) -> str:
        return statement.replace("?", mark)

    item_sql = sql(
        "INSERT INTO item (id, feed_id, key, guid, link, title, summary, author, published_at,"
        " date_source, language, tags, fetched_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
        " ON CONFLICT DO NOTHING"
    )
    story_sql = sql(
        "INSERT INTO story (id, title, link, words, feeds, items, first_seen, last_seen)"
        " VALUES (?,?,?,?,?,?,?,?)"
    )
    match_sql = sql(
        'INSERT INTO "match" (id, item_id, rule_id, rule_version, level, score, sentence,'
        " evidence, matched_at, story_id) VALUES (?,?,?,?,?,?,?,?,?,?)"
    )
    delivery_sql = sql(
        "INSERT INTO delivery (key, kind, match_id, story_id, rule_id, rule_title, target, level,"
        " status, attempts, next_attempt_at, created_at, pending_since)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING"
    )
    feed_sql = sql(
        "UPDATE feed SET last_polled_at=?, next_poll_at=?, etag=?, last_modified=?,"
        " body_hash=?, status='ok', lease_owner=NULL, lease_until=NULL WHERE id=?"
    )
    poll_sql = sql(
        "INSERT INTO poll (feed_id, started_at, duration_ms, outcome, http_status, bytes,"
        " items_seen, items_new) VALUES (?,?,?,?,?,?,?,?)"
    )
    next_item = next_story = next_match = 1
    began, cpu = time.perf_counter(), time.process_time()
    cursor = conn.cursor()
    for result in results:
        if dialect == "sqlite":
            cursor.execute("BEGIN")
        ids = {}
        item_rows = []
        for item in {i.key: i for i in result.items}.values():
            ids[item.key] = next_item
            item_rows.append(
                (
                    next_item,
                    result.feed_id,
                    item.key,
                    item.guid,
                    item.link,
                    item.title,
                    item.summary,
                    item.author,
                    _stamp(item.published_at, dialect),
                    item.date_source,
                    item.language,
                    as_json(list(item.tags)),
                    _stamp(result.started_at, dialect),
                )
            )
            next_item += 1
        cursor.executemany(item_sql, item_rows)
        stamp = _stamp(result.started_at, dialect)
        if result.matches:
            stories: dict[str, int] = {}
            story_rows, match_rows, delivery_rows = [], [], []
            titles = {i.key: i for i in result.items}
            for m in result.matches:
                if m.item_key not in stories:
                    stories[m.item_key] = next_story
                    item = titles[m.item_key]
                    story_rows.append(
                        (
                            next_story,
                            item.title,
                            item.link,
                            as_json(item.title.lower().split()),
                            as_json(["feed"]),
                            1,
                            stamp,
                            stamp,
                        )
                    )
                    next_story += 1
                evidence = as_json([asdict(e) for e in m.evidence])
                match_rows.append(
                    (
                        next_match,
                        ids[m.item_key],
                        m.rule,
                        m.version,
                        m.level,
                        m.score,
                        m.sentence,
                        evidence,
                        stamp,
                        stories[m.item_key],
                    )
                )
                delivery_rows += [
                    (
                        f"{m.rule}:{stories[m.item_key]}:{target}",
                        "match",
                        next_match,
                        stories[m.item_key],
                        m.rule,
                        m.rule_title,
                        target,
                        m.level,
                        "pending",
                        0,
                        stamp,
                        stamp,
                        stamp,
                    )
                    for target in m.targets
                ]
                next_match += 1
            cursor.executemany(story_sql, story_rows)
            cursor.executemany(match_sql, match_rows)
            cursor.executemany(delivery_sql, delivery_rows)
        validators = result.validators or Validators(None, None)
        cursor.execute(
            feed_sql,
            (
                stamp,
                _stamp(result.next_poll_at, dialect),
                validators.etag,
                validators.last_modified,
                result.body_hash,
                result.feed_id,
            ),
        )
        cursor.execute(
            poll_sql,
            (result.feed_id, stamp, 0, "ok", 200, result.body_bytes, len(result.items), 0),
        )
        conn.commit() if dialect == "postgresql" else cursor.execute("COMMIT")
    took = Took(time.perf_counter() - began, time.process_time() - cpu)
    conn.close()
    return took


def store_stage(
    backend: str,
    feeds: Sequence[FeedConfig],
    items: Sequence[tuple[Item, ...]],
    matches: Sequence[tuple[Match, ...]],
    folder: Path,
) -> list[Row]:
    dialect = "postgresql" if backend == "postgres" else "sqlite"
    now = datetime.now(UTC)
    count = sum(len(i) for i in items)
    rows: list[Row] = []
    filing = StoryFiling()
    for label, with_matches in (("with matches", True), ("no matches", False)):
        chosen = matches if with_matches else [() for _ in matches]
        with fresh_database(backend, folder, "stage") as url:
            db = store.Database(url)
            states = prepared(db, feeds, now)
            db.dispose()
            took = monitor_store(url, poll_results(states, items, chosen, now), filing)
        with fresh_database(backend, folder, "ceiling") as url:
            db = store.Database(url)
            states = prepared(db, feeds, now)
            db.dispose()
            ceiling = plain_store(url, poll_results(states, items, chosen, now), dialect)
        stored = sum(len(m) for m in chosen)
        note = f" ({stored} matches)" if with_matches else ""
        stage = f"store ({backend}, {label}): save_poll vs executemany"
        rows.append(Row(stage, took, ceiling, count, note))
    return rows


# -- main --------------------------------------------------------------------------------------


def print_rows(rows: Sequence[Row]) -> None:
    print(
        "| stage | monitor: wall (CPU) | ceiling: wall (CPU) | ratio: wall (CPU) |"
        " monitor items/s (CPU) | ceiling items/s (CPU) |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows:
        m, c, n = row.monitor, row.ceiling, row.items
        rate = f"{n / m.wall:,.0f} ({n / max(m.cpu, 1e-9):,.0f})"
        if c is None:
            print(
                f"| {row.stage}{row.note} | {m.wall:.2f} s ({m.cpu:.2f} s) | – | – | {rate} | – |"
            )
            continue
        print(
            f"| {row.stage}{row.note} | {m.wall:.2f} s ({m.cpu:.2f} s) |"
            f" {c.wall:.3f} s ({c.cpu:.3f} s) |"
            f" {m.wall / c.wall:.1f}x ({m.cpu / max(c.cpu, 1e-9):.1f}x) | {rate} |"
            f" {n / c.wall:,.0f} ({n / max(c.cpu, 1e-9):,.0f}) |"
        )
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if "postgres" in backends and (why := pg_available()) is not None:
        print(f"PostgreSQL skipped: {why}\n")
        backends.remove("postgres")
    corpus = Corpus(args.feeds, args.items)
    docs = [corpus.document(f) for f in range(args.feeds)]
    urls = [f"http://127.0.0.1:8000/feeds/{corpus.name(f)}.xml" for f in range(args.feeds)]
    expected = corpus.counts()["match"]
    feeds = [
        FeedConfig(name=corpus.name(f), url=url, interval=timedelta(hours=1))
        for f, url in enumerate(urls)
    ]
    print(
        f"## Stages, {args.feeds} feeds x {args.items} items ({sum(map(len, docs)) / 1e6:.1f} MB),"
        f" one process, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}\n"
    )
    rows, parsed = parse_stage(docs)
    print_rows(rows)
    now = datetime.now(UTC)
    more, items = normalize_stage(parsed, urls, now)
    print_rows(more)
    rows += more
    ruleset = load_ruleset(ROOT / "rules", ROOT / "seeds")
    more, found = match_stage(ruleset, items, expected)
    print_rows(more)
    rows += more
    # as the daemon does: readers add each matched item's story fingerprint, the pipeline
    # routes (neither is timed here: the fingerprints are reader work, not store work)
    by_key = {item.key: item for feed in items for item in feed}
    routed = [
        tuple(
            replace(
                m,
                targets=route(ruleset.rule(m.rule), ()),
                rule_title=ruleset.rule(m.rule).title,
                story_words=story_words(
                    by_key[m.item_key].title,
                    by_key[m.item_key].summary,
                    by_key[m.item_key].language,
                ),
            )
            for m in feed
        )
        for feed in found
    ]
    with tempfile.TemporaryDirectory(prefix="stages-") as tmp:
        for backend in backends:
            more = store_stage(backend, feeds, items, routed, Path(tmp))
            print_rows(more)
            rows += more
    print(f"\n### All stages (load average at the end {os.getloadavg()[0]:.2f})\n")
    print_rows(rows)


if __name__ == "__main__":
    main()
