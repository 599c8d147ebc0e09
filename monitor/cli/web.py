"""Commands of the analyst's desk: `web` (the dashboard), `feedback` (mark a match) and
`rules stats` (per-rule precision from the marks)."""

import argparse
import asyncio
import json
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from monitor import store
from monitor.cli.context import EXIT_INVALID, EXIT_OK, open_db, open_rules, print_problems
from monitor.errors import RuleError
from monitor.settings import Settings

if TYPE_CHECKING:  # the engine loads in the commands that use it (tests/test_cli_startup.py)
    from monitor.engine.rulebook import RuleBook
    from monitor.engine.ruleset import RuleSet

RELOAD_EVERY = 2.0  # seconds between checks of the rule files while the dashboard runs


def add_commands(commands: Any) -> None:
    """Register `web`, `feedback` and `rules stats` (after `rules` is registered)."""
    web = commands.add_parser("web", help="serve the dashboard (127.0.0.1:8080 by default)")
    web.add_argument("--listen", metavar="HOST:PORT", help="where to listen (default: web.listen)")
    web.set_defaults(handler=_web)

    feedback = commands.add_parser("feedback", help="mark a match relevant or not relevant")
    feedback.add_argument("match_id", type=int, metavar="MATCH_ID")
    verdict = feedback.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--relevant", dest="verdict", action="store_const", const="relevant")
    verdict.add_argument(
        "--not-relevant", dest="verdict", action="store_const", const="not-relevant"
    )
    verdict.add_argument("--clear", dest="verdict", action="store_const", const="clear")
    feedback.add_argument("--note", help="why (shown with the mark)")
    feedback.set_defaults(handler=_feedback)

    rules = commands.choices["rules"]
    sub = next(a for a in rules._actions if isinstance(a, argparse._SubParsersAction))
    stats = sub.add_parser("stats", help="per-rule precision from the analysts' marks")
    stats.add_argument("--json", action="store_true", help="print JSON lines")
    stats.set_defaults(handler=_stats)


def _web(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.web import create_app, serve  # Starlette and uvicorn: only for this command

    web = settings.web
    if args.listen:
        host, _, port = args.listen.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) < 65536:
            print(
                f"error: --listen {args.listen}: use HOST:PORT, e.g. 127.0.0.1:8080",
                file=sys.stderr,
            )
            return EXIT_INVALID
        web = web.model_copy(update={"listen": args.listen})
        settings = settings.model_copy(update={"web": web})
    book = open_rules(settings)
    db = open_db(settings)
    app = create_app(settings, db, token=web.token, rules=_live(book))
    writes = "the token in " + web.token_env if web.token else "same-origin sessions"

    def ready(host: str, port: int) -> None:
        shown = f"[{host}]" if ":" in host else host
        print(f"dashboard on http://{shown}:{port} (writes need {writes}); Ctrl-C stops it")
        sys.stdout.flush()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await serve(app, web.host, web.port, stop, ready=ready)

    asyncio.run(run())
    return EXIT_OK


def _live(book: "RuleBook | None") -> "Callable[[], RuleSet | None]":
    """The current rule set, reloaded when its files change (checked every 2 s at most)."""
    if book is None:
        return lambda: None
    checked = [time.monotonic()]

    def current() -> "RuleSet":
        if time.monotonic() - checked[0] >= RELOAD_EVERY:
            checked[0] = time.monotonic()
            try:
                book.reload_if_changed()
            except RuleError as exc:  # the last good rules stay; say why once
                print_problems(exc.problems)
        return book.current

    return current


def _feedback(settings: Settings, args: argparse.Namespace) -> int:
    db = open_db(settings)
    if args.verdict == "clear":
        found = store.clear_feedback(db, args.match_id)
        print(f"match {args.match_id}: " + ("mark cleared" if found else "was not marked"))
        return EXIT_OK
    note = args.note.strip() if args.note else None
    mark = store.set_feedback(
        db, args.match_id, args.verdict == "relevant", note, datetime.now(UTC)
    )
    if mark is None:
        print(f"error: no match {args.match_id}", file=sys.stderr)
        return EXIT_INVALID
    said = "relevant" if mark.relevant else "not relevant"
    print(f"match {mark.match_id} ({mark.rule}, version {mark.version}): marked {said}")
    tally = store.rule_precision(db, [mark.rule])[mark.rule].overall
    print(f"{mark.rule}: precision {_pct(tally.precision)} ({tally.relevant} of {tally.marked})")
    return EXIT_OK


def _stats(settings: Settings, args: argparse.Namespace) -> int:
    db = open_db(settings)
    precision = store.rule_precision(db)
    today = datetime.now(UTC).date()
    hits: dict[str, int] = {}
    for row in store.daily_counts(db, today - timedelta(days=29), today):
        hits[row.rule] = hits.get(row.rule, 0) + row.count
    rules = sorted({*precision, *hits, *_rule_ids(settings)})
    if args.json:
        for rule in rules:
            p = precision.get(rule)
            print(json.dumps({"rule": rule, "matches_30d": hits.get(rule, 0), **_json(p)}))
        return EXIT_OK
    print(f"{'RULE':<28} {'30 DAYS':>7} {'MARKED':>6} {'RELEVANT':>8} {'NOT':>4} {'PRECISION':>9}")
    for rule in rules:
        p = precision.get(rule)
        t = p.overall if p else store.Tally()
        print(
            f"{rule:<28} {hits.get(rule, 0):>7} {t.marked:>6} {t.relevant:>8} {t.rejected:>4} "
            f"{_pct(t.precision):>9}"
        )
        if p is None:
            continue
        for version, v in p.by_version:
            print(f"    version {version}: {_pct(v.precision)} ({v.relevant} of {v.marked})")
        for week, w in p.by_week:
            print(f"    week of {week}: {_pct(w.precision)} ({w.relevant} of {w.marked})")
    return EXIT_OK


def _rule_ids(settings: Settings) -> list[str]:
    if not settings.rules_dir.is_dir():
        return []
    from monitor.engine.rulebook import RuleBook

    try:
        book = RuleBook(settings.rules_dir, settings.seeds_dir, lambda: datetime.now(UTC).date())
    except RuleError as exc:
        print_problems(exc.problems)
        return []
    return [rule.id for rule in book.current.rules]


def _json(p: store.RulePrecision | None) -> dict[str, Any]:
    def tally(t: store.Tally) -> dict[str, Any]:
        return {**asdict(t), "marked": t.marked, "precision": t.precision}

    if p is None:
        return tally(store.Tally()) | {"by_version": [], "by_week": []}
    return tally(p.overall) | {
        "by_version": [{"version": v, **tally(t)} for v, t in p.by_version],
        "by_week": [{"week": w.isoformat(), **tally(t)} for w, t in p.by_week],
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"
