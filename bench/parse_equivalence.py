"""Check that the fast path (ingest/xmlfeed.py, lxml) reads what feedparser reads.

Every feed document available is read both ways, as a file and as several HTTP responses
(content types and charsets): the fast path (which declines documents it
is not sure of) and feedparser alone (`read_with_feedparser`). For each document the fast
path accepts, every field of the feed and of each entry must be equal, and so must the items
`normalize_entry` makes of them. Prints how many documents and entries each source has, how
many the fast path took, each difference found, and both readers' speed on what it took.
Exits 1 on any difference.

    .venv/bin/python bench/parse_equivalence.py [--show 5]

Sources: this repository's test feeds, the benchmark's generated feeds and, when
../shared is present, feedparser's own 2,106 test documents, the 40 real feeds, the 800
archived items and the labelled evaluation feeds.
"""

import argparse
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from generate import Corpus  # noqa: E402

from monitor.errors import ParseError  # noqa: E402
from monitor.ingest.normalize import normalize_entry  # noqa: E402
from monitor.ingest.parse import feedparser_reads, read_with_feedparser  # noqa: E402
from monitor.ingest.xmlfeed import read_plain_feed  # noqa: E402
from monitor.model import ParsedFeed  # noqa: E402

SHARED = ROOT.parent / "shared"
# Each document is read as a file (no headers) and as each of these responses.
RESPONSES: tuple[dict[str, str], ...] = (
    {},
    {"content-type": "application/rss+xml; charset=utf-8"},
    {"content-type": "application/xml"},
    {"content-type": "text/xml"},
    {"content-type": "text/xml; charset=iso-8859-1", "content-language": "pl"},
    {"content-type": "text/html; charset=utf-8"},
)
FETCHED = datetime(2026, 12, 1, tzinfo=UTC)


def documents() -> Iterator[tuple[str, str, bytes]]:
    """(source, name, body) of every document."""
    for path in sorted((ROOT / "tests" / "data").rglob("*.xml")):
        yield "tests/data", str(path.relative_to(ROOT)), path.read_bytes()
    corpus = Corpus(100, 30)
    for feed in range(100):
        yield "generated", corpus.name(feed), corpus.document(feed)
    for source, folder in (
        ("feedparser fixtures", SHARED / "corpus" / "feedparser-fixtures"),
        ("real feeds", SHARED / "corpus" / "real-feeds"),
        ("archived items", SHARED / "corpus" / "real-items-2023-2025"),
        ("eval feeds", SHARED / "eval"),
    ):
        for path in sorted(folder.rglob("*.xml")) if folder.is_dir() else []:
            yield source, str(path.relative_to(SHARED)), path.read_bytes()


def differences(fast: ParsedFeed, slow: ParsedFeed) -> list[str]:
    found = [
        f"feed.{name}: {getattr(fast, name)!r} != {getattr(slow, name)!r}"
        for name in ("title", "language", "version", "bozo")
        if getattr(fast, name) != getattr(slow, name)
    ]
    if len(fast.entries) != len(slow.entries):
        return [*found, f"entries: {len(fast.entries)} != {len(slow.entries)}"]
    for i, (one, other) in enumerate(zip(fast.entries, slow.entries, strict=True)):
        for f in fields(one):
            mine, theirs = getattr(one, f.name), getattr(other, f.name)
            if mine != theirs:
                found.append(f"entry {i} {f.name}: {mine!r:.120} != {theirs!r:.120}")
        language = fast.language
        items = [
            normalize_entry(e, feed_url="https://example.org/feed", feed_language=language,
                            fetched_at=FETCHED)
            for e in (one, other)
        ]  # fmt: skip
        if items[0] != items[1]:
            found.append(f"entry {i}: normalised items differ")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=5, help="differences shown per document")
    args = parser.parse_args()
    if not SHARED.is_dir():
        print(f"{SHARED} is absent: only this repository's and the generated feeds are read")
    seen: Counter[str] = Counter()
    taken: Counter[str] = Counter()
    entries: Counter[str] = Counter()
    taken_entries: Counter[str] = Counter()
    fast_time = slow_time = 0.0
    bad = 0
    for source, name, body in documents():
        seen[source] += 1
        for headers in RESPONSES:
            try:
                began = time.perf_counter()
                slow = read_with_feedparser(body, headers)
                slow_took = time.perf_counter() - began
            except ParseError:
                slow = None
            began = time.perf_counter()
            fast = read_plain_feed(body, headers, feedparser_reads)
            fast_took = time.perf_counter() - began
            if not headers:
                entries[source] += len(slow.entries) if slow else 0
            if fast is None:
                continue
            if not headers:
                taken[source] += 1
                taken_entries[source] += len(fast.entries)
                fast_time += fast_took
                slow_time += slow_took
            if slow is None:
                bad += 1
                print(f"DIFF {name} {headers}: feedparser refuses it, the fast path read it")
                continue
            found = differences(fast, slow)
            if found:
                bad += 1
                print(f"DIFF {name} {headers}:")
                for line in found[: args.show]:
                    print(f"    {line}")
    print("\n| source | documents | taken by the fast path | entries | entries taken |")
    print("|---|---|---|---|---|")
    for source in seen:
        print(
            f"| {source} | {seen[source]:,} | {taken[source]:,} | {entries[source]:,} |"
            f" {taken_entries[source]:,} |"
        )
    total = sum(taken_entries.values())
    print(
        f"\non the {total:,} entries taken: feedparser {slow_time:.2f} s"
        f" ({total / slow_time:,.0f} entries/s), fast path {fast_time:.2f} s"
        f" ({total / fast_time:,.0f} entries/s), {slow_time / fast_time:.1f}x"
    )
    print(f"documents x responses read differently: {bad}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
