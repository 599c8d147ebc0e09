"""Commands about feeds, items and the daemon: run, poll, feeds, items, db, health."""

import argparse
import asyncio
import difflib
import json
import signal
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from monitor import store
from monitor.cli.context import EXIT_FAILURE, EXIT_INVALID, EXIT_OK, open_db, open_rules
from monitor.errors import RuleError
from monitor.model import PollReport
from monitor.redact import redact_url
from monitor.settings import FeedConfig, Settings

if TYPE_CHECKING:
    from monitor.engine.rulebook import RuleBook
    from monitor.ingest.workers import ReadPool

# The daemon, the app and the engine are imported by the commands that run them: a listing
# command imports the store alone (see `tests/test_cli_startup.py`).


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
    db_commands.add_parser(
        "sync-feeds", help="make the feed table match this config (the daemon does at start)"
    ).set_defaults(handler=_sync)
    prune = db_commands.add_parser("prune", help="delete what retention: says has aged out")
    prune.add_argument("--dry-run", action="store_true", help="only count what would go")
    prune.set_defaults(handler=_prune)

    health = commands.add_parser("health", help="exit 0 when polling is healthy, 1 otherwise")
    health.add_argument("--json", action="store_true", help="print JSON")
    health.set_defaults(handler=_health)


class _StoppedEarly(Exception):
    """SIGTERM came while the daemon was still starting (loading rules, migrating)."""


def _stop_early(_signum: int, _frame: object) -> None:
    raise _StoppedEarly


def _run(settings: Settings, _args: argparse.Namespace) -> int:
    # Until the daemon's own handler takes over, SIGTERM must still mean "stop cleanly": a
    # service manager may stop a daemon that is loading its rules.
    signal.signal(signal.SIGTERM, _stop_early)
    try:
        from monitor.app import open_app
        from monitor.daemon import run_until_signalled
        from monitor.reading import start_readers

        # the readers first: they check the rules' examples, and so are ready to match
        with start_readers(settings.schedule.readers, settings.cache_dir) as readers:
            rules = open_rules(settings, readers)
            db = open_db(settings)

            async def daemon() -> None:
                async with open_app(settings, db=db, rules=rules, readers=readers) as app:
                    await run_until_signalled(app)

            asyncio.run(daemon())
    except _StoppedEarly:
        print("stopped while starting", file=sys.stderr)
    return EXIT_OK


def _poll(settings: Settings, args: argparse.Namespace) -> int:
    names = args.feed or [feed.name for feed in settings.feeds]
    unknown = sorted(set(names) - {feed.name for feed in settings.feeds})
    if unknown:
        print(f"error: no feed named {', '.join(unknown)} in {settings.source}", file=sys.stderr)
        return EXIT_INVALID
    from monitor.reading import start_readers

    with start_readers(settings.schedule.readers, settings.cache_dir) as readers:
        rules = open_rules(settings, readers)
        db = open_db(settings)
        reports = asyncio.run(_poll_once(settings, db, names, rules, readers))
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
    settings: Settings,
    db: store.Database,
    names: list[str],
    rules: "RuleBook | None",
    readers: "ReadPool",
) -> list[PollReport]:
    """Poll `names` once through the daemon's dispatcher (same worker and per-host limits).
    Only these feeds are added to the feed table; the others stay as the daemon left them."""
    from monitor.app import open_app
    from monitor.dispatch import Dispatcher

    async with open_app(settings, db=db, rules=rules, readers=readers) as app:
        wanted = [settings.feed(name) for name in names]
        await asyncio.to_thread(store.add_feeds, db, wanted, app.clock())
        dispatcher = Dispatcher(app, {feed.name: feed for feed in wanted})
        polls: dict[str, asyncio.Task[PollReport | None]] = {}
        try:
            while True:
                remaining = [name for name in names if name not in polls]
                started = await dispatcher.fill(remaining) if remaining else {}
                polls |= started
                if not dispatcher.busy:
                    break  # what remains is being polled by another process
                await dispatcher.wait_any()
        finally:
            await asyncio.to_thread(store.release_leases, db, app.owner)
        return [r for task in polls.values() if (r := task.result()) is not None]


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
    views = store.list_feeds(db, include_inactive=args.all)
    stored = {v.name for v in store.list_feeds(db, include_inactive=True)}
    views += [_unpolled(feed) for feed in settings.feeds if feed.name not in stored]
    if args.json:
        for view in views:
            data = asdict(view) | {"url": redact_url(view.url)}
            print(json.dumps(data, default=_json_default, ensure_ascii=False))
        return EXIT_OK
    now = datetime.now(UTC)
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


def _unpolled(feed: FeedConfig) -> store.FeedView:
    """A configured feed the daemon has not taken up yet (it syncs feeds when it starts)."""
    return store.FeedView(
        name=feed.name,
        url=feed.url,
        title=None,
        active=True,
        status="new",
        interval=feed.every,
        last_polled_at=None,
        last_success_at=None,
        last_error_kind=None,
        last_error=None,
        last_error_at=None,
        consecutive_failures=0,
        next_poll_at=datetime.now(UTC),
        items=0,
        leased_by=None,
    )


def _sync(settings: Settings, _args: argparse.Namespace) -> int:
    db = open_db(settings)
    store.sync_feeds(db, settings.feeds, datetime.now(UTC))
    print(f"{len(settings.feeds)} feeds in {settings.source}; others marked inactive")
    return EXIT_OK


def _prune(settings: Settings, args: argparse.Namespace) -> int:
    db = open_db(settings)
    from monitor.upkeep import retention_cutoffs

    pruned = store.prune(db, retention_cutoffs(settings, datetime.now(UTC)), dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    counts = ", ".join(f"{n} {kind}" for kind, n in asdict(pruned).items())
    print(f"{verb}: {counts}")
    return EXIT_OK


def _items(settings: Settings, args: argparse.Namespace) -> int:
    db = open_db(settings)
    found = store.recent_items(db, args.limit, args.feed)
    if args.feed and not found:  # a feed no longer configured still has its stored items
        known = {f.name for f in settings.feeds}
        known |= {f.name for f in store.list_feeds(db, include_inactive=True)}
        if args.feed not in known:
            close = difflib.get_close_matches(args.feed, sorted(known), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            print(f"error: --feed: no feed named {args.feed}{hint}", file=sys.stderr)
            return EXIT_INVALID
    if args.json:
        for item in found:
            print(json.dumps(asdict(item), default=_json_default, ensure_ascii=False))
        return EXIT_OK
    now = datetime.now(UTC)
    for item in found:
        print(f"{_ago(item.published_at, now):>10}  {item.feed:<20} {item.title}")
        if item.link:
            print(f"{'':>10}  {'':<20} {item.link}")
    return EXIT_OK


def _matches(settings: Settings, args: argparse.Namespace) -> int:
    found = store.recent_matches(open_db(settings), args.limit, args.rule)
    if args.rule and not found:  # a rule with stored matches is known even if since removed
        from monitor.engine.loader import load_ruleset

        try:
            known = [r.id for r in load_ruleset(settings.rules_dir, settings.seeds_dir).rules]
        except RuleError:
            known = [args.rule]  # cannot tell: the rules do not load (`monitor rules check`)
        if args.rule not in known:
            close = difflib.get_close_matches(args.rule, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            print(
                f"error: --rule: no rule '{args.rule}' in {settings.rules_dir} and no "
                f"stored matches of it{hint}",
                file=sys.stderr,
            )
            return EXIT_INVALID
    if args.json:
        for m in found:
            print(json.dumps(asdict(m), default=_json_default, ensure_ascii=False))
        return EXIT_OK
    now = datetime.now(UTC)
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
    report = store.check_health(db, datetime.now(UTC), stale)
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
