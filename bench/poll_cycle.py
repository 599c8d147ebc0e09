"""Benchmark one polling cycle: N feeds x M items served from a local HTTP server.

monitor (httpx + conditional GET + feedparser on bytes + batched ON CONFLICT inserts) is
compared in the same run with a naive loop (feedparser fetching each URL itself, one ORM
insert per item after a duplicate check). Each side runs in its own process so peak memory
(max RSS) is its own. Prints a Markdown table.

    .venv/bin/python bench/poll_cycle.py [--feeds 50] [--items 100]
"""

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.feedserver import FeedServer  # noqa: E402

TEXT = (
    "ministers met in the capital to discuss security cooperation, trade and the situation "
    "on the peninsula while observers noted new shipments and joint exercises near the border"
)
WORDS = TEXT.split(" ")


def make_feed(index: int, items: int) -> bytes:
    entries = []
    for j in range(items):
        words = " ".join(WORDS[(j + k) % len(WORDS)] for k in range(160))
        entries.append(
            f"<item><title>Feed {index} story {j}: {' '.join(WORDS[j % 20 : j % 20 + 6])}</title>"
            f"<link>https://news.example.org/{index}/{j}?utm_source=rss</link>"
            f"<guid>urn:bench:{index}:{j}</guid>"
            f"<pubDate>Sun, 29 Nov 2026 {j % 24:02d}:00:00 GMT</pubDate>"
            f"<description><![CDATA[<p>{words}</p><p><a href='/x'>more</a></p>]]></description>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Bench feed {index}</title><link>https://news.example.org/</link>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


def run_monitor(urls: list[str], db_path: str) -> dict[str, float]:
    from monitor import store
    from monitor.app import open_app
    from monitor.config import FeedConfig, HttpSettings, Settings
    from monitor.model import FeedState
    from monitor.pipeline import poll_feed

    feeds = tuple(
        FeedConfig(name=f"f{i}", url=u, interval=timedelta(minutes=1)) for i, u in enumerate(urls)
    )
    settings = Settings(
        database_url=f"sqlite:///{db_path}", feeds=feeds, http=HttpSettings(workers=8, per_host=8)
    )
    db = store.Database(settings.database_url)
    db.upgrade()

    async def cycle(at: datetime) -> tuple[float, int]:
        async with open_app(settings, db=db, clock=lambda: at) as app:
            await asyncio.to_thread(store.sync_feeds, db, feeds, at)
            states = await asyncio.to_thread(
                store.claim_due_feeds, db, app.owner, at, timedelta(minutes=5), len(feeds)
            )
            gate = asyncio.Semaphore(8)

            async def one(state: FeedState) -> int:
                async with gate:
                    return (await poll_feed(app, settings.feed(state.name), state)).items_new

            began = time.perf_counter()
            new = sum(await asyncio.gather(*(one(s) for s in states)))
            return time.perf_counter() - began, new

    now = datetime.now(UTC)
    cold, stored = asyncio.run(cycle(now))
    warm, again = asyncio.run(cycle(now + timedelta(minutes=2)))
    return {"cold_s": cold, "warm_s": warm, "stored": stored, "stored_warm": again}


def run_naive(urls: list[str], db_path: str) -> dict[str, float]:
    import feedparser
    from sqlalchemy import String, Text, UniqueConstraint, create_engine, select
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

    class Base(DeclarativeBase):
        pass

    class Entry(Base):
        __tablename__ = "entry"
        __table_args__ = (UniqueConstraint("feed", "guid"),)
        id: Mapped[int] = mapped_column(primary_key=True)
        feed: Mapped[str] = mapped_column(String(200))
        guid: Mapped[str] = mapped_column(String(200))
        title: Mapped[str] = mapped_column(Text)
        summary: Mapped[str] = mapped_column(Text)

    engine = create_engine(f"sqlite:///{db_path}")
    Base.metadata.create_all(engine)

    def cycle() -> tuple[float, int]:
        began, stored = time.perf_counter(), 0
        for url in urls:
            parsed = feedparser.parse(url)  # feedparser fetches: no timeout, no size cap
            for e in parsed.entries:
                with Session(engine) as session:
                    exists = session.scalar(
                        select(Entry.id).where(Entry.feed == url, Entry.guid == e.id)
                    )
                    if exists is None:
                        session.add(Entry(feed=url, guid=e.id, title=e.title, summary=e.summary))
                        session.commit()
                        stored += 1
        return time.perf_counter() - began, stored

    cold, stored = cycle()
    warm, again = cycle()
    return {"cold_s": cold, "warm_s": warm, "stored": stored, "stored_warm": again}


def child(kind: str, urls: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        runner = run_monitor if kind == "monitor" else run_naive
        result = runner(urls, str(Path(tmp) / "bench.db"))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--child", choices=("monitor", "naive"))
    parser.add_argument("--urls", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, json.loads(args.urls))
        return
    with tempfile.TemporaryDirectory() as tmp, FeedServer(Path(tmp)) as server:
        urls = []
        for i in range(args.feeds):
            server.set_feed(f"bench-{i}.xml", make_feed(i, args.items))
            urls.append(server.url(f"/feeds/bench-{i}.xml"))
        size = sum(len(make_feed(i, args.items)) for i in range(1))
        results = {
            kind: json.loads(
                subprocess.run(
                    [sys.executable, __file__, "--child", kind, "--urls", json.dumps(urls)],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            for kind in ("naive", "monitor")
        }
    total = args.feeds * args.items
    print(
        f"{args.feeds} feeds x {args.items} items ({total} items, ~{size // 1024} KB per feed),"
        " local HTTP server, SQLite\n"
    )
    print(
        "| approach | cold cycle | warm cycle (nothing new) | items stored cold / warm | peak RSS |"
    )
    print("|---|---|---|---|---|")
    names = {
        "naive": "naive: feedparser.parse(url) + one ORM insert per item",
        "monitor": "monitor: httpx conditional GET + batched inserts",
    }
    for kind in ("naive", "monitor"):
        r = results[kind]
        print(
            f"| {names[kind]} | {r['cold_s']:.2f} s ({total / r['cold_s']:,.0f} items/s) "
            f"| {r['warm_s']:.3f} s | {r['stored']:.0f} / {r['stored_warm']:.0f} "
            f"| {r['peak_rss_mb']:.0f} MB |"
        )
    speedup = results["naive"]["warm_s"] / results["monitor"]["warm_s"]
    print(f"\nwarm cycle: monitor is {speedup:.0f}x faster than the naive loop")


if __name__ == "__main__":
    main()
