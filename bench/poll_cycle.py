"""Benchmark a polling cycle: N feeds x M realistic items from a local HTTP server.

monitor runs through the daemon's own path (`open_app` with the seed rules, `sync_feeds`,
then `Dispatcher.fill()` until every due feed is polled, as `monitor poll` does): a cold
cycle (every item new) and a warm one (nothing new: conditional GETs answered 304). In the
same run, a naive loop (`feedparser.parse(url)` fetching each feed itself, one ORM insert
per item after a duplicate check) does the same two cycles. Each approach runs in its own
process, on its own fresh database, so its peak memory is its own: the table gives the
main process's peak RSS and the largest reader process's (monitor parses in worker
processes), read from /proc while it runs, and the CPU time (user + system) its processes
used, which other load on the machine inflates far less than wall time (the feed server's
and PostgreSQL's CPU are not in it).

    .venv/bin/python bench/poll_cycle.py --feeds 1000 --items 30
        [--backend sqlite|postgres|both] [--rules rules|none] [--prefill 1000000]
        [--repeat 2] [--no-naive] [--tick 5] [--profile PATH]

`--tick S` fills free workers only every S seconds, as the daemon's dispatch tick does;
`--profile PATH` runs monitor under py-spy (the `bench` extra) and prints where its CPU
went, by stage and by function. bench/README.md has the numbers and how to read them.

PostgreSQL: postgresql://postgres@127.0.0.1:5432/postgres (trust auth; a fresh database per
run, dropped afterwards; skipped with a message when no server answers). `--prefill N`
stores N older items (with matches, stories and alerts for 3 % of them) before a second
cold cycle, to show what history costs, then times `monitor items|matches|feeds|alerts`
against that database and prints the query plans of their queries.
"""

import argparse
import asyncio
import hashlib
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from generate import Corpus  # noqa: E402

from tests.feedserver import FeedServer  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
INTERVAL = timedelta(hours=1)  # every feed's; the warm cycle runs one interval later
CLI_RUNS = 3


# -- memory and CPU of a process tree, from /proc ---------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _parents() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds used so far) of every process."""
    out = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            rest = stat.rsplit(")", 1)[1].split()
            out[int(entry.name)] = (int(rest[1]), (int(rest[11]) + int(rest[12])) / TICK)
    return out


def _tree(root: int, table: dict[int, tuple[int, float]]) -> set[int]:
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [p for p, (pp, _) in table.items() if pp == parent and p not in tree]
        tree.update(children)
        frontier += children
    return tree


def tree_cpu(root: int | None = None) -> float:
    """CPU seconds (user + system) used so far by `root` (default: this process) and its
    living descendants: the reader processes of a monitor run included."""
    table = _parents()
    return sum(table[p][1] for p in _tree(root or os.getpid(), table) if p in table)


class TreeWatcher:
    """Samples the peak RSS (VmHWM) of a process and of all its descendants until stopped."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.pid, self.every = pid, every
        self.peaks: dict[int, tuple[str, int]] = {}  # pid -> (name, peak kB)
        self.cpu: dict[int, float] = {}  # pid -> CPU seconds, as last seen
        # the tree's proportional set size summed at each sample: a page shared by n
        # processes (libraries, copy-on-write, a mapped file) counts 1/n in each, so the sum
        # is the memory the tree occupies, as a cgroup (systemd, docker) charges it
        self.pss_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        own = self.peaks.get(self.pid, ("", 0))[1]
        others = [kb for pid, (_, kb) in self.peaks.items() if pid != self.pid]
        return {
            "rss_main_mb": own / 1024,
            "rss_worker_mb": max(others, default=0) / 1024,
            "rss_all_mb": (own + sum(others)) / 1024,
            "pss_all_mb": self.pss_peak / 1024,
            "processes": 1 + len(others),
            "cpu_all_s": sum(self.cpu.values()),
        }

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.every)

    def _sample(self) -> None:
        table = _parents()
        tree = _tree(self.pid, table)
        pss = 0
        for pid in tree:
            if pid in table:
                self.cpu[pid] = max(self.cpu.get(pid, 0.0), table[pid][1])
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            peak = int(fields.get("VmHWM", "0 kB").split()[0])
            name = fields.get("Name", "").strip()
            if peak > self.peaks.get(pid, ("", 0))[1]:
                self.peaks[pid] = (name, peak)
            pss += _pss_kb(pid)
        self.pss_peak = max(self.pss_peak, pss)


def _pss_kb(pid: int) -> int:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in rollup.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


# -- databases ------------------------------------------------------------------------------


def pg_available() -> str | None:
    """None when the server answers, else why not."""
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0]


@contextmanager
def fresh_database(backend: str, folder: Path, label: str) -> Iterator[str]:
    """A new empty database's URL; removed afterwards."""
    if backend == "sqlite":
        path = folder / f"{label}-{uuid.uuid4().hex[:6]}.db"
        try:
            yield f"sqlite:///{path}"
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    name = f"bench_{label}_{uuid.uuid4().hex[:8]}".replace("-", "_")
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlalchemy_url(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


# -- the approaches (each in its own process) -------------------------------------------------


def feed_configs(spec: dict[str, Any]) -> tuple[Any, ...]:
    from monitor.settings import FeedConfig

    return tuple(
        FeedConfig(name=name, url=url, interval=INTERVAL)
        for name, url in zip(spec["names"], spec["urls"], strict=True)
    )


def run_monitor(spec: dict[str, Any]) -> dict[str, Any]:
    began = time.perf_counter()
    from monitor import store
    from monitor.app import open_app
    from monitor.dispatch import Dispatcher
    from monitor.engine.lemma import use_dictionary_files
    from monitor.engine.rulebook import RuleBook
    from monitor.logs import configure_logging
    from monitor.reading import examples_in, start_readers
    from monitor.settings import HttpSettings, ScheduleSettings, Settings

    configure_logging("text", "info")  # as the daemon does; stderr goes to a file
    feeds = feed_configs(spec)
    workers = spec["workers"] or HttpSettings().workers
    settings = Settings(
        database_url=spec["db"],
        feeds=feeds,
        rules_dir=ROOT / "rules",
        seeds_dir=ROOT / "seeds",
        cache_dir=Path(spec["cache"]),
        # every feed is on 127.0.0.1 here; in real life they are on many hosts
        http=HttpSettings(workers=workers, per_host=min(workers, 32)),
        schedule=ScheduleSettings(readers=spec["readers"]),
    )
    loading = time.perf_counter()
    # as `monitor run`: the examples in them
    readers = start_readers(settings.schedule.readers, settings.cache_dir)
    use_dictionary_files(settings.cache_dir)
    try:
        rules = (
            RuleBook(
                settings.rules_dir,
                settings.seeds_dir,
                lambda: datetime.now(UTC).date(),
                examples=examples_in(readers, settings.rules_dir, settings.seeds_dir),
            )
            if spec["rules"] == "rules"
            else None
        )
    except BaseException:
        readers.close()  # its processes would otherwise outlive the error until exit
        raise
    loading = time.perf_counter() - loading
    db = store.Database(settings.database_url)
    db.upgrade()
    offset = [timedelta(0)]

    def clock() -> datetime:
        return datetime.now(UTC) + offset[0]

    cpu: list[float] = []
    main_cpu: list[float] = []  # the daemon's own process (its threads included)

    async def cycle(dispatcher: Dispatcher) -> tuple[float, Counter[str]]:
        cpu.append(tree_cpu())
        main_cpu.append(time.process_time())
        start = time.perf_counter()
        tasks: list[asyncio.Task[Any]] = []
        while True:
            tasks += (await dispatcher.fill()).values()
            if not dispatcher.busy:
                break
            if spec.get("tick"):  # as the daemon: fill again on the next tick only
                await asyncio.sleep(spec["tick"])
            else:  # as `monitor poll`: fill again as soon as a poll ends
                await dispatcher.wait_any()
        took = time.perf_counter() - start
        cpu.append(tree_cpu() - cpu.pop())
        main_cpu.append(time.process_time() - main_cpu.pop())
        outcomes = Counter(
            (r.outcome if r is not None else "not-stored") for r in (t.result() for t in tasks)
        )
        return took, outcomes

    async def main() -> dict[str, Any]:
        async with open_app(
            settings, db=db, clock=clock, rules=rules, notifiers={}, readers=readers
        ) as app:
            startup = time.perf_counter() - began
            sync = time.perf_counter()
            await asyncio.to_thread(store.sync_feeds, db, feeds, clock())
            sync = time.perf_counter() - sync
            dispatcher = Dispatcher(app, {f.name: f for f in feeds})
            cold, cold_outcomes = await cycle(dispatcher)
            counts = table_counts(db)
            offset[0] = INTERVAL + timedelta(minutes=1)
            warm, warm_outcomes = await cycle(dispatcher)
        return {
            "startup_s": startup,
            "rules_s": loading,
            "sync_s": sync,
            "cold_s": cold,
            "warm_s": warm,
            "cold_cpu_s": cpu[0],
            "warm_cpu_s": cpu[1],
            "cold_cpu_main_s": main_cpu[0],
            "cold_outcomes": dict(cold_outcomes),
            "warm_outcomes": dict(warm_outcomes),
            "warm_new": table_counts(db)["items"] - counts["items"],
            **counts,
        }

    with readers:
        return asyncio.run(main())


def table_counts(db: Any) -> dict[str, int]:
    from sqlalchemy import text

    with db.engine.connect() as conn:
        return {
            name: int(conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())
            for name, table in (
                ("items", "item"),
                ("matches", "match"),
                ("stories", "story"),
                ("deliveries", "delivery"),
            )
        }


def run_naive(spec: dict[str, Any]) -> dict[str, Any]:
    import feedparser
    from sqlalchemy import String, Text, UniqueConstraint, create_engine, func, select
    from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

    class Base(DeclarativeBase):
        pass

    class Entry(Base):
        __tablename__ = "entry"
        __table_args__ = (UniqueConstraint("feed", "guid"),)
        id: Mapped[int] = mapped_column(primary_key=True)
        feed: Mapped[str] = mapped_column(String(200))
        guid: Mapped[str] = mapped_column(String(400))
        title: Mapped[str] = mapped_column(Text)
        summary: Mapped[str] = mapped_column(Text)

    engine = create_engine(sqlalchemy_url(spec["db"]))
    Base.metadata.create_all(engine)

    cpu: list[float] = []

    def cycle() -> tuple[float, int]:
        cpu.append(time.process_time())
        began, stored = time.perf_counter(), 0
        for url in spec["urls"]:
            parsed = feedparser.parse(url)  # feedparser fetches: no timeout, no size cap
            for e in parsed.entries:
                guid = e.get("id") or e.get("link")
                with Session(engine) as session:
                    exists = session.scalar(
                        select(Entry.id).where(Entry.feed == url, Entry.guid == guid)
                    )
                    if exists is None:
                        session.add(
                            Entry(feed=url, guid=guid, title=e.title, summary=e.get("summary", ""))
                        )
                        session.commit()
                        stored += 1
        cpu.append(time.process_time() - cpu.pop())
        return time.perf_counter() - began, stored

    cold, _ = cycle()
    warm, again = cycle()
    with Session(engine) as session:
        items = session.scalar(select(func.count()).select_from(Entry))
    return {
        "cold_s": cold,
        "warm_s": warm,
        "cold_cpu_s": cpu[0],
        "warm_cpu_s": cpu[1],
        "items": items,
        "warm_new": again,
        "matches": 0,
    }


def run_prefill(spec: dict[str, Any]) -> dict[str, Any]:
    """Store `spec["prefill"]` older items through the store's tables (executemany), with a
    match, a story and a sent alert for 3 % of them, spread over the past year and over the
    feeds the way real feeds differ (a few publish most)."""
    from sqlalchemy import text

    from monitor import store
    from monitor.ingest.normalize import html_to_text
    from monitor.store.tables import DeliveryRow, ItemRow, MatchRow, StoryRow

    began = time.perf_counter()
    db = store.Database(spec["db"])
    db.upgrade()
    now = datetime.now(UTC)
    store.sync_feeds(db, feed_configs(spec), now)
    with db.engine.connect() as conn:
        feed_ids = [int(r[0]) for r in conn.execute(text("SELECT id FROM feed ORDER BY id"))]
    sample = Corpus(20, 30, seed=99).all_items()
    titles = [i.title for i in sample]
    summaries = [html_to_text(i.summary_html) for i in sample]
    rules = ("ru-dprk-arms", "quad-dprk-statement", "cn-rok-meeting")
    rng = random.Random(5)
    weights = [1 / (rank + 1) ** 0.8 for rank in range(len(feed_ids))]
    rng.shuffle(weights)
    total = spec["prefill"]
    start = now - timedelta(days=365)
    span = timedelta(days=364).total_seconds()
    item_table, match_table = ItemRow.__table__, MatchRow.__table__  # type: ignore[attr-defined]
    story_table, delivery_table = StoryRow.__table__, DeliveryRow.__table__  # type: ignore[attr-defined]
    batch = 10_000
    matched = 0
    for first in range(0, total, batch):
        count = min(batch, total - first)
        feeds = rng.choices(feed_ids, weights=weights, k=count)
        items, stories, matches, deliveries = [], [], [], []
        for n in range(count):
            i = first + n
            published = start + timedelta(seconds=span * i / total + rng.randrange(600))
            fetched = published + timedelta(seconds=rng.randrange(60, 1800))
            pick = rng.randrange(len(titles))
            items.append(
                {
                    "id": i + 1,
                    "feed_id": feeds[n],
                    "key": hashlib.sha256(f"prefill:{i}".encode()).hexdigest(),
                    "guid": f"urn:old:{i}",
                    "link": f"https://outlet{feeds[n] % 97}.example.com/old/{i}",
                    "title": titles[pick],
                    "summary": summaries[pick],
                    "author": None,
                    "published_at": published,
                    "date_source": "feed",
                    "language": "en",
                    "tags": ["World"],
                    "fetched_at": fetched,
                }
            )
            if i % 33 == 0:  # 3 %: a match; two matches per story; an alert per story
                matched += 1
                story = (matched + 1) // 2
                rule = rules[story % 3]
                if matched % 2 == 1:
                    stories.append(
                        {
                            "id": story,
                            "title": titles[pick],
                            "link": None,
                            "words": titles[pick].lower().split()[:8],
                            "feeds": [f"bench-{feeds[n]}"],
                            "items": 2,
                            "first_seen": fetched,
                            "last_seen": fetched + timedelta(hours=2),
                        }
                    )
                matches.append(
                    {
                        "id": matched,
                        "item_id": i + 1,
                        "rule_id": rule,
                        "rule_version": "3f2a9c1d",
                        "level": "high",
                        "score": 0.8,
                        "sentence": titles[pick],
                        "evidence": [
                            {"kind": "actor", "ref": "RUS", "text": "Russia", "start": 0, "end": 6}
                        ],
                        "matched_at": fetched,
                        "story_id": story,
                    }
                )
                if matched % 2 == 1:
                    deliveries.append(
                        {
                            "id": story,
                            "key": f"{rule}:{story}:log",
                            "kind": "match",
                            "match_id": matched,
                            "story_id": story,
                            "rule_id": rule,
                            "rule_title": rule,
                            "target": "log",
                            "level": "high",
                            "status": "sent",
                            "attempts": 1,
                            "next_attempt_at": fetched,
                            "created_at": fetched,
                            "pending_since": fetched,
                            "sent_at": fetched,
                        }
                    )
        with db.engine.begin() as conn:
            conn.execute(item_table.insert(), items)
            if stories:
                conn.execute(story_table.insert(), stories)
            if matches:
                conn.execute(match_table.insert(), matches)
            if deliveries:
                conn.execute(delivery_table.insert(), deliveries)
    if db.dialect == "postgresql":
        with db.engine.begin() as conn:
            for table in ("item", "story", "match", "delivery"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f'(SELECT max(id) FROM "{table}"))'
                    )
                )
        # autovacuum would have analysed a table that grew this large
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    return {"prefill_s": time.perf_counter() - began, "items": total, "matches": matched}


def child(kind: str, spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    runner: Callable[[dict[str, Any]], dict[str, Any]] = {
        "monitor": run_monitor,
        "naive": run_naive,
        "prefill": run_prefill,
    }[kind]
    result = runner(spec)
    result["ru_maxrss_self_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["ru_maxrss_children_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(json.dumps(result))


# -- the driver ------------------------------------------------------------------------------


@dataclass
class Run:
    backend: str
    kind: str  # naive | monitor | monitor+prefill
    result: dict[str, Any] = field(default_factory=dict)


def spawn(kind: str, spec: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Run one approach in its own process; its result with its tree's peak RSS."""
    spec_path = folder / f"spec-{uuid.uuid4().hex[:6]}.json"
    # each run writes its own dictionary files, as a daemon's first start does
    spec = spec | {"cache": str(folder / f"cache-{spec_path.stem}")}
    spec_path.write_text(json.dumps(spec))
    log_path = folder / f"{kind}-{spec_path.stem}.log"
    command = [sys.executable, __file__, "--child", kind, "--spec", str(spec_path)]
    if spec.get("profile") and kind == "monitor":
        spy = str(Path(sys.executable).parent / "py-spy")
        options = ["--subprocesses", "--rate", "50", "--format", "raw", "-o", spec["profile"]]
        command = [spy, "record", *options, "--", *command]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=ROOT,
        )
        watcher = TreeWatcher(process.pid)
        out, _ = process.communicate()
        memory = watcher.stop()
    if process.returncode != 0:
        tail = log_path.read_text(errors="replace")[-3000:]
        raise SystemExit(f"{kind} failed (exit {process.returncode}):\n{tail}")
    last = [line for line in out.decode().splitlines() if line.startswith("{")][-1]
    result: dict[str, Any] = json.loads(last)  # py-spy, when used, writes lines of its own
    errors = sum(1 for line in log_path.open(errors="replace") if "poll failed" in line)
    return result | memory | {"log_errors": errors}


STARTUP_FRAMES = ("RuleBook.__init__", "Database.upgrade", "_find_and_load")
# frames that only carry work to where it is done (threads, pools, the event loop, this file)
PLUMBING = (
    "threading.py", "concurrent/futures/", "multiprocessing/", "pebble/", "asyncio/",
    "<string>", "poll_cycle.py", "selectors.py", "",
)  # fmt: skip


def print_profile(path: str, top: int = 15) -> None:
    """The functions with the most samples in their stacks (cumulative) and at the top of
    them (self), from py-spy's raw output, without the plumbing frames; start-up stacks
    (rules, migrations, imports) are left out and counted apart."""
    cumulative: Counter[str] = Counter()
    own: Counter[str] = Counter()
    processes: Counter[str] = Counter()
    stages: Counter[str] = Counter()
    total = startup = 0
    for line in Path(path).read_text().splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue
        frames = [_frame(f) for f in stack.split(";")]
        if any(f.startswith(STARTUP_FRAMES) for f in frames):
            startup += int(samples)
            continue
        total += int(samples)
        reader = "[reader process]" in frames
        processes["reader processes" if reader else "main process"] += int(samples)
        for name in set(frames):
            cumulative[name] += int(samples)
        own[frames[-1]] += int(samples)
        stages[stage_of(frames)] += int(samples)
    print(
        f"\n#### py-spy profile of the monitor run: {total:,} CPU samples over its processes"
        f" ({startup:,} start-up samples left out)\n"
    )
    print(", ".join(f"{name}: {100 * n / total:.0f} %" for name, n in processes.most_common()))
    print("\n| stage | share of CPU samples |")
    print("|---|---|")
    for stage, n in stages.most_common():
        print(f"| {stage} | {100 * n / total:.1f} % |")
    print("\n| function | cumulative | self |")
    print("|---|---|---|")
    shown = [(n, c) for n, c in cumulative.most_common() if not _plumbing(n)][:top]
    for name, n in shown:
        print(f"| `{name}` | {100 * n / total:.1f} % | {100 * own[name] / total:.1f} % |")
    print("\n| top self (leaf) functions | share |")
    print("|---|---|")
    for name, n in own.most_common(top):
        print(f"| `{name}` | {100 * n / total:.1f} % |")


# (stage, a function in the stack): the first that matches names the stage of a sample
STAGES = (
    ("parse (feedparser)", "parse_feed ("),
    ("normalize: html_to_text", "html_to_text ("),
    ("normalize: the rest", "normalize_entry ("),
    ("match: language of the item", "Languages.of_item ("),
    ("match: dictionary scan (Aho–Corasick, fold, lemmas)", "Lexicon.scan ("),
    ("match: sentences", "split_sentences ("),
    ("match: rule evaluation", "_evaluate ("),
    ("match: the rest", "match_item ("),
    ("store: stories", "assign_story ("),
    ("store: stories", "file_stories ("),
    ("store: items", "_insert_items ("),
    ("store: matches and outbox", "_insert_matches ("),
    ("store: the rest (feed row, poll row, commit)", "save_poll ("),
    ("fetch (httpx)", "Fetcher.fetch ("),
    ("reader pool: hand-over (pickling, pipes)", "[reader process]"),
    ("lease feeds", "claim_due_feeds ("),
    ("read pool: schedule and wait", "ReadPool.read ("),
    ("logging", "logging/"),
)


def stage_of(frames: list[str]) -> str:
    joined = ";".join(frames)
    for stage, marker in STAGES:
        if marker in joined:
            return stage
    return "event loop, threads, other"


def _plumbing(name: str) -> bool:
    file = name.rsplit(" (", 1)[-1].rstrip(")")
    return name.startswith("[") or any(file.startswith(p) for p in PLUMBING if p) or not file


def _frame(frame: str) -> str:
    if frame.startswith("process "):  # py-spy --subprocesses: the process is the root frame
        return "[reader process]" if "forkserver" in frame else "[main process]"
    return frame.split(" (", 1)[0] + " (" + _file(frame) + ")"


def _file(frame: str) -> str:
    inside = frame.split(" (", 1)[1].rstrip(")") if " (" in frame else ""
    path = inside.rsplit(":", 1)[0]
    for marker in ("site-packages/", "/work/main/", "python3.11/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def write_config(path: Path, db_url: str, spec: dict[str, Any]) -> None:
    lines = [
        f"database_url: {db_url}",
        f"rules_dir: {ROOT / 'rules'}",
        f"seeds_dir: {ROOT / 'seeds'}",
        "feeds:",
    ]
    lines += [
        f"  - {{name: {name}, url: '{url}', interval: 1h}}"
        for name, url in zip(spec["names"], spec["urls"], strict=True)
    ]
    path.write_text("\n".join(lines) + "\n")


def time_cli(db_url: str, spec: dict[str, Any], folder: Path) -> list[tuple[str, float, float]]:
    """(command, median s, spread s) of the real CLI against `db_url`."""
    config = folder / f"monitor-{uuid.uuid4().hex[:6]}.yaml"
    write_config(config, db_url, spec)
    monitor = Path(sys.executable).parent / "monitor"
    commands = [["--version"], ["items"], ["matches"], ["feeds"], ["alerts"]]
    timings = []
    for command in commands:
        runs = []
        for _ in range(CLI_RUNS):
            began = time.perf_counter()
            done = subprocess.run(
                [str(monitor), "--config", str(config), *command],
                capture_output=True,
                cwd=folder,
                check=False,
            )
            runs.append(time.perf_counter() - began)
            if done.returncode != 0:
                raise SystemExit(f"monitor {' '.join(command)} failed: {done.stderr.decode()}")
        timings.append((" ".join(command), statistics.median(runs), max(runs) - min(runs)))
    return timings


def explain_cli_queries(db_url: str) -> list[str]:
    """The SQL the listing commands run, each with its query plan, and its in-process time."""
    from sqlalchemy import event

    from monitor import store

    db = store.Database(db_url)
    captured: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            captured.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    out = []
    calls: list[tuple[str, Callable[[], object]]] = [
        ("monitor items", lambda: store.recent_items(db, 20)),
        ("monitor matches", lambda: store.recent_matches(db, 20)),
        ("monitor feeds", lambda: store.list_feeds(db)),
        ("monitor alerts", lambda: store.list_deliveries(db, 30)),
    ]
    for name, call in calls:
        captured.clear()
        times = []
        for _ in range(CLI_RUNS):
            began = time.perf_counter()
            call()
            times.append(time.perf_counter() - began)
        statements = list(dict.fromkeys((s, _freeze(p)) for s, p in captured))
        out.append(f"#### {name}: {statistics.median(times) * 1000:.0f} ms in-process (median)")
        for statement, params in statements:
            out.append("```sql\n" + " ".join(statement.split()) + "\n```")
            out.append("```\n" + "\n".join(_plan(db, statement, params)) + "\n```")
    event.remove(db.engine, "before_cursor_execute", capture)
    db.dispose()
    return out


def _freeze(params: Any) -> Any:
    if isinstance(params, dict):
        return tuple(sorted(params.items()))
    return tuple(params) if isinstance(params, list | tuple) else params


def _plan(db: Any, statement: str, params: Any) -> list[str]:
    raw = db.engine.raw_connection()
    try:
        cursor = raw.cursor()
        args = dict(params) if db.dialect == "postgresql" else params
        if db.dialect == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, args)
            return [str(row[0]) for row in cursor.fetchall()]
        cursor.execute("EXPLAIN QUERY PLAN " + statement, args)
        return [f"{row[0]}|{row[1]}| {row[3]}" for row in cursor.fetchall()]
    finally:
        raw.close()


def mb(value: float) -> str:
    return f"{value:,.0f} MB"


def print_table(backend: str, runs: list[Run], total: int) -> None:
    naive = [r.result for r in runs if r.kind == "naive"]
    naive_cold = statistics.median([n["cold_s"] for n in naive]) if naive else None
    naive_warm = statistics.median([n["warm_s"] for n in naive]) if naive else None
    print(f"\n### {backend}\n")
    print(
        "| approach | cold cycle | items/s | cold CPU | warm cycle | warm CPU | items stored |"
        " matches | stories | alerts | peak RSS: main / largest worker / all | peak PSS, all |"
        " speed-up vs naive (cold / warm) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        r = run.result
        up = (
            f"{naive_cold / r['cold_s']:.2f}x / {naive_warm / r['warm_s']:.1f}x"
            if naive_cold and naive_warm and run.kind != "naive"
            else "–"
        )
        workers = mb(r["rss_worker_mb"]) if r["processes"] > 1 else "–"
        print(
            f"| {run.kind} | {r['cold_s']:.1f} s | {total / r['cold_s']:,.0f} |"
            f" {r['cold_cpu_s']:.1f} s | {r['warm_s']:.2f} s | {r['warm_cpu_s']:.2f} s |"
            f" {r['items']:,} (+{r['warm_new']} warm) |"
            f" {r['matches']:,} | {r.get('stories', '–')} | {r.get('deliveries', '–')} |"
            f" {mb(r['rss_main_mb'])} / {workers} / {mb(r['rss_all_mb'])} |"
            f" {mb(r['pss_all_mb'])} | {up} |"
        )
    for run in runs:
        r = run.result
        if run.kind.startswith("monitor"):
            print(
                f"\n{run.kind}: start-up {r['startup_s']:.1f} s (rules {r['rules_s']:.1f} s),"
                f" sync_feeds {r['sync_s']:.2f} s; CPU of the whole run {r['cpu_all_s']:.0f} s;"
                f" cold cycle's CPU: main process {r['cold_cpu_main_s']:.1f} s, readers"
                f" {r['cold_cpu_s'] - r['cold_cpu_main_s']:.1f} s;"
                f" cold outcomes {r['cold_outcomes']}, warm {r['warm_outcomes']};"
                f" poll failures logged: {r['log_errors']}"
            )


def bench_backend(
    backend: str, args: argparse.Namespace, base: dict[str, Any], folder: Path
) -> None:
    runs: list[Run] = []
    total = args.feeds * args.items
    for attempt in range(args.repeat):
        if not args.no_naive:
            with fresh_database(backend, folder, "naive") as url:
                started = time.perf_counter()
                runs.append(Run(backend, "naive", spawn("naive", base | {"db": url}, folder)))
                log(f"{backend} naive #{attempt + 1}: {time.perf_counter() - started:.0f} s")
        with fresh_database(backend, folder, "monitor") as url:
            started = time.perf_counter()
            runs.append(Run(backend, "monitor", spawn("monitor", base | {"db": url}, folder)))
            log(f"{backend} monitor #{attempt + 1}: {time.perf_counter() - started:.0f} s")
            if attempt == 0 and args.prefill:
                log(f"{backend}: CLI on the {runs[-1].result['items']:,}-item database")
                empty_cli = time_cli(url, base, folder)
                print_cli(backend, f"{runs[-1].result['items']:,} items", empty_cli, [])
    if args.prefill:
        with fresh_database(backend, folder, "prefill") as url:
            spec = base | {"db": url, "prefill": args.prefill}
            filled = spawn("prefill", spec, folder)
            log(f"{backend}: prefilled {args.prefill:,} items in {filled['prefill_s']:.0f} s")
            runs.append(Run(backend, "monitor, prefilled", spawn("monitor", spec, folder)))
            log(f"{backend}: cold cycle over the prefilled database done")
            cli = time_cli(url, base, folder)
            plans = explain_cli_queries(url)
            print_cli(backend, f"{runs[-1].result['items']:,} items", cli, plans)
    print_table(backend, runs, total)
    empty = [r.result["cold_s"] for r in runs if r.kind == "monitor"]
    full = [r.result["cold_s"] for r in runs if r.kind == "monitor, prefilled"]
    if empty and full:
        print(
            f"\ncold cycle with {args.prefill:,} stored items: {full[0]:.1f} s vs"
            f" {statistics.median(empty):.1f} s empty = {full[0] / statistics.median(empty):.2f}x"
        )
    sys.stdout.flush()


def print_cli(
    backend: str, what: str, timings: list[tuple[str, float, float]], plans: list[str]
) -> None:
    print(f"\n#### CLI on {backend}, {what} (median of {CLI_RUNS}, wall clock incl. start-up)\n")
    print("| command | median | spread |")
    print("|---|---|---|")
    for command, median, spread in timings:
        print(f"| monitor {command} | {median:.2f} s | {spread:.2f} s |")
    if plans:
        print()
        print("\n".join(plans))
    sys.stdout.flush()


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--rules", choices=("rules", "none"), default="rules")
    parser.add_argument("--prefill", type=int, default=0, metavar="N")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each approach")
    parser.add_argument("--workers", type=int, default=0, help="poll workers (default: config's)")
    parser.add_argument(
        "--readers",
        type=int,
        default=0,
        help="reader processes (default: config's, one per CPU but one)",
    )
    parser.add_argument("--no-naive", action="store_true", help="skip the naive loop")
    parser.add_argument(
        "--tick",
        type=float,
        default=0,
        metavar="S",
        help="fill free workers every S seconds, as the daemon's dispatch tick does"
        " (default 0: as soon as a poll ends, as `monitor poll` does)",
    )
    parser.add_argument("--profile", metavar="PATH", help="py-spy the monitor run into PATH")
    parser.add_argument("--child", choices=("monitor", "naive", "prefill"), help=argparse.SUPPRESS)
    parser.add_argument("--spec", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.spec)
        return
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    if "postgres" in backends and (why := pg_available()) is not None:
        print(f"PostgreSQL skipped: no server at {PG_ADMIN} ({why})\n")
        backends.remove("postgres")
    made = time.perf_counter()
    corpus = Corpus(args.feeds, args.items)
    counts = corpus.counts()
    made = time.perf_counter() - made
    sizes = [len(corpus.document(f)) for f in range(args.feeds)]
    with tempfile.TemporaryDirectory(prefix="poll-cycle-") as tmp, FeedServer(Path(tmp)) as server:
        folder = Path(tmp)
        names, urls = [], []
        for f in range(args.feeds):
            server.set_feed(f"{corpus.name(f)}.xml", corpus.document(f))
            names.append(corpus.name(f))
            urls.append(server.url(f"/feeds/{corpus.name(f)}.xml"))
        del corpus
        base = {
            "names": names,
            "urls": urls,
            "rules": args.rules,
            "workers": args.workers,
            "readers": args.readers,
            "prefill": 0,
            "tick": args.tick,
            "profile": str(Path(args.profile).resolve()) if args.profile else None,
        }
        total = args.feeds * args.items
        print(
            f"## {args.feeds} feeds x {args.items} items = {total:,} items, rules: {args.rules}\n\n"
            f"Documents: {sum(sizes) / 1e6:.1f} MB, {statistics.mean(sizes) / 1024:.0f} KB per"
            f" feed ({counts['atom_feeds']} Atom, {counts['cdata_feeds']} RSS with CDATA, the"
            f" rest RSS with escaped HTML), served gzip by tests/feedserver.py on 127.0.0.1;"
            f" {counts['match']} items ({100 * counts['match'] / total:.1f} %) written to"
            f" match the seed rules, {counts['near']} ({100 * counts['near'] / total:.1f} %)"
            f" naming their states without a match, {counts['copies']} copies of stories"
            f" other feeds carry. Generated in {made:.1f} s. monitor: {args.workers or 'default'}"
            f" workers, per-host limit = workers (every feed is on 127.0.0.1), free workers"
            f" filled {f'every {args.tick:g} s' if args.tick else 'as soon as a poll ends'}."
            f" {os.cpu_count()} CPUs;"
            f" load average at start {os.getloadavg()[0]:.2f}."
        )
        for backend in backends:
            bench_backend(backend, args, base, folder)
    if args.profile:
        print_profile(args.profile)
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nThis driver (corpus, feed server): max RSS {parent:.0f} MB.")
    print(f"Load average at the end: {os.getloadavg()[0]:.2f}.")


if __name__ == "__main__":
    main()
