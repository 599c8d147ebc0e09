"""Commands about feeds, items and the daemon: run, poll, feeds, items, db, health."""

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from monitor import store
from monitor.app import open_app, utc_now
from monitor.cli.context import EXIT_FAILURE, EXIT_INVALID, EXIT_OK, open_db, open_rules
from monitor.config import Settings
from monitor.daemon import run_until_signalled
from monitor.engine.rulebook import RuleBook
from monitor.model import PollReport
from monitor.pipeline import poll_feed
from monitor.redact import redact_url


def add_commands(commands: Any) -> None:
    """Register run, poll, feeds, items, db and health."""
    run = commands.add_parser("run", help="run the daemon in the foreground until SIGTERM")
    run.set_defaults(handler=_run)

    poll = commands.add_parser("poll", help="poll feeds once now (all, or --feed NAME)")
    poll.add_argument("--feed", action="append", metavar="NAME", help="only this feed (repeatable)")
    poll.add_argument("--json", action="store_true", help="one JSON object per feed")
    poll.set_defaults(handler=_poll)

    feeds = commands.add_parser("feeds", help="list feeds with their polling state")
    feeds.add_argument("--all", action="store_true", help="include feeds no longer configured")
    feeds.add_argument("--json", action="store_true", help="print JSON")
    feeds.set_defaults(handler=_feeds)

    items = commands.add_parser("items", help="list recently stored items")
    items.add_argument("--feed", metavar="NAME", help="only items of this feed")
    items.add_argument("--limit", type=int, default=20, metavar="N", help="how many (default 20)")
    items.add_argument("--json", action="store_true", help="print JSON lines")
    items.set_defaults(handler=_items)

    matches = commands.add_parser("matches", help="list recent matches with their evidence")
    matches.add_argument("--rule", metavar="ID", help="only matches of this rule")
    matches.add_argument("--limit", type=int, default=20, metavar="N", help="how many (default 20)")
    matches.add_argument("--json", action="store_true", help="print JSON lines")
    matches.set_defaults(handler=_matches)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    db_commands.add_parser("upgrade", help="apply pending schema migrations").set_defaults(
        handler=_db_upgrade
    )

    health = commands.add_parser("health", help="exit 0 when polling is healthy, 1 otherwise")
    health.add_argument("--json", action="store_true", help="print JSON")
    health.set_defaults(handler=_health)


def _run(settings: Settings, _args: argparse.Namespace) -> int:
    rules = open_rules(settings)
    db = open_db(settings)

    async def daemon() -> None:
        async with open_app(settings, db=db, rules=rules) as app:
            await run_until_signalled(app)

    asyncio.run(daemon())
    return EXIT_OK


def _poll(settings: Settings, args: argparse.Namespace) -> int:
    names = args.feed or [feed.name for feed in settings.feeds]
    unknown = sorted(set(names) - {feed.name for feed in settings.feeds})
    if unknown:
        print(f"error: no feed named {', '.join(unknown)} in {settings.source}", file=sys.stderr)
        return EXIT_INVALID
    rules = open_rules(settings)
    db = open_db(settings)
    reports = asyncio.run(_poll_once(settings, db, names, rules))
    for report in reports:
        if args.json:
            print(json.dumps(_report_json(report), ensure_ascii=False))
        else:
            print(_report_line(report))
    busy = sorted(set(names) - {r.feed for r in reports})
    for name in busy:
        print(f"{name}: skipped (being polled by another process, or gone)", file=sys.stderr)
    failed = any(r.outcome in ("error", "gone") for r in reports)
    return EXIT_FAILURE if failed else EXIT_OK


async def _poll_once(
    settings: Settings, db: store.Database, names: list[str], rules: RuleBook | None
) -> list[PollReport]:
    async with open_app(settings, db=db, rules=rules) as app:
        await asyncio.to_thread(store.sync_feeds, db, settings.feeds, app.clock())
        states = await asyncio.to_thread(
            store.claim_due_feeds,
            db,
            app.owner,
            app.clock(),
            settings.schedule.lease,
            len(names),
            names,
        )
        gate = asyncio.Semaphore(settings.http.workers)

        async def one(state: Any) -> PollReport:
            async with gate:
                return await poll_feed(app, settings.feed(state.name), state)

        try:
            return list(await asyncio.gather(*(one(s) for s in states)))
        finally:
            await asyncio.to_thread(store.release_leases, db, app.owner)


def _report_line(report: PollReport) -> str:
    ms = round(report.duration.total_seconds() * 1000)
    if report.error:
        return f"{report.feed}: {report.outcome} [{report.error_kind}] {report.error} ({ms} ms)"
    return (
        f"{report.feed}: {report.outcome}, {report.items_new} new of {report.items_seen} ({ms} ms)"
    )


def _report_json(report: PollReport) -> dict[str, Any]:
    data = asdict(report)
    data["duration_ms"] = round(data.pop("duration").total_seconds() * 1000)
    return data


def _feeds(settings: Settings, args: argparse.Namespace) -> int:
    db = open_db(settings)
    store.sync_feeds(db, settings.feeds, utc_now())
    views = store.list_feeds(db, include_inactive=args.all)
    if args.json:
        for view in views:
            data = asdict(view) | {"url": redact_url(view.url)}
            print(json.dumps(data, default=_json_default, ensure_ascii=False))
        return EXIT_OK
    now = utc_now()
    rows = [("FEED", "STATUS", "LAST SUCCESS", "NEXT DUE", "ITEMS", "LAST ERROR")]
    for v in views:
        error = f"[{v.last_error_kind}] {v.last_error}" if v.last_error and v.status != "ok" else ""
        status = v.status if v.active else f"{v.status} (removed)"
        if v.consecutive_failures > 1:
            status += f" x{v.consecutive_failures}"
        rows.append(
            (
                v.name,
                status,
                _ago(v.last_success_at, now),
                _ago(v.next_poll_at, now) if v.status != "gone" else "-",
                str(v.items),
                error,
            )
        )
    _print_table(rows)
    return EXIT_OK


def _items(settings: Settings, args: argparse.Namespace) -> int:
    db = open_db(settings)
    found = store.recent_items(db, args.limit, args.feed)
    if args.json:
        for item in found:
            print(json.dumps(asdict(item), default=_json_default, ensure_ascii=False))
        return EXIT_OK
    now = utc_now()
    for item in found:
        print(f"{_ago(item.published_at, now):>10}  {item.feed:<20} {item.title}")
        if item.link:
            print(f"{'':>10}  {'':<20} {item.link}")
    return EXIT_OK


def _matches(settings: Settings, args: argparse.Namespace) -> int:
    found = store.recent_matches(open_db(settings), args.limit, args.rule)
    if args.json:
        for m in found:
            print(json.dumps(asdict(m), default=_json_default, ensure_ascii=False))
        return EXIT_OK
    now = utc_now()
    for m in found:
        words = ", ".join(f"{e['text']} ({e['ref']})" for e in m.evidence)
        print(
            f"{_ago(m.matched_at, now):>9}  {m.rule} [{m.level} {m.score:.2f}]  {m.feed}: "
            f"{m.title}\n{'':>11}why: {words}\n{'':>11}in:  {m.sentence}"
        )
        if m.link:
            print(f"{'':>11}{m.link}")
    return EXIT_OK


def _db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    db = store.Database(settings.database_url)
    db.upgrade()
    print(f"database {redact_url(db.url)} is at the newest schema")
    return EXIT_OK


def _health(settings: Settings, args: argparse.Namespace) -> int:
    db = store.Database(settings.database_url)
    if not db.is_current():
        print("unhealthy: database schema is not current (run `monitor db upgrade`)")
        return EXIT_FAILURE
    stale = max(timedelta(minutes=2), settings.schedule.tick * 4)
    report = store.check_health(db, utc_now(), stale)
    if args.json:
        print(json.dumps(asdict(report)))
    elif report.healthy:
        print(
            f"healthy: {report.feeds_ok} feed(s) ok, {report.feeds_failing} failing, "
            f"daemon {', '.join(report.daemons)}"
        )
    else:
        print("unhealthy: " + "; ".join(report.problems))
    return EXIT_OK if report.healthy else EXIT_FAILURE


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "never"
    seconds = (now - when).total_seconds()
    span = _span(abs(seconds))
    return f"{span} ago" if seconds >= 0 else f"in {span}"


def _span(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def _print_table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]).rstrip())


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise TypeError(type(value).__name__)
