"""Commands about alerts: `alerts` (history), `alerts test`, `alerts retry`, `silence`."""

import argparse
import difflib
import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor import store
from monitor.cli.context import EXIT_FAILURE, EXIT_INVALID, EXIT_OK, open_db
from monitor.durations import parse_duration
from monitor.errors import AlertError, RuleError
from monitor.model import Alert
from monitor.settings import Settings


def add_commands(commands: Any) -> None:
    """Register `alerts …` and `silence …`."""
    alerts = commands.add_parser("alerts", help="alert history, test messages and retries")
    alerts.add_argument("--status", choices=("pending", "sent", "dead", "silenced", "suppressed"))
    alerts.add_argument("--target", metavar="NAME")
    alerts.add_argument("--limit", type=int, default=30, metavar="N")
    alerts.add_argument("--json", action="store_true", help="print JSON lines")
    alerts.set_defaults(handler=_history)
    sub = alerts.add_subparsers(dest="alerts_command", metavar="COMMAND")
    test = sub.add_parser("test", help="send a real test message to a target now")
    test.add_argument("target", metavar="TARGET")
    test.set_defaults(handler=_test)
    retry = sub.add_parser("retry", help="send deliveries again (by id, or every dead one)")
    retry.add_argument("ids", nargs="*", type=int, metavar="ID")
    retry.add_argument("--dead", action="store_true", help="every dead delivery")
    retry.set_defaults(handler=_retry)

    silence = commands.add_parser("silence", help="pause alerts of a rule for a while")
    verbs = silence.add_subparsers(dest="silence_command", required=True, metavar="COMMAND")
    add = verbs.add_parser("add", help="silence a rule (or every rule)")
    add.add_argument("--rule", metavar="ID", help="the rule (default: every rule)")
    add.add_argument("--for", dest="span", required=True, metavar="SPAN", help="e.g. 30m, 4h, 2d")
    add.add_argument("--reason", required=True)
    add.set_defaults(handler=_silence_add)
    verbs.add_parser("list", help="active silences").set_defaults(handler=_silence_list)
    remove = verbs.add_parser("remove", help="end a silence now")
    remove.add_argument("id", type=int)
    remove.set_defaults(handler=_silence_remove)


def _history(settings: Settings, args: argparse.Namespace) -> int:
    rows = store.list_deliveries(open_db(settings), args.limit, args.status, args.target)
    if args.json:
        for row in rows:
            print(json.dumps(asdict(row), default=str, ensure_ascii=False))
        return EXIT_OK
    print(f"{'ID':>5}  {'STATUS':<9} {'TARGET':<12} {'RULE':<22} {'TRIES':>5}  TITLE / LAST ERROR")
    for r in rows:
        print(f"{r.id:>5}  {r.status:<9} {r.target:<12} {r.rule:<22} {r.attempts:>5}  {r.title}")
        if r.last_error and r.status != "sent":
            print(f"{'':>5}  {'':<9} {'':<12} {'':<22} {'':>5}  ! {r.last_error}")
    return EXIT_OK


def _test(settings: Settings, args: argparse.Namespace) -> int:
    # Apprise and Jinja2 load here, not for the listing commands (tests/test_cli_startup.py).
    from monitor.alerts.notify import build_notifiers
    from monitor.alerts.render import Renderer

    try:
        notifiers = build_notifiers(settings.targets)
    except AlertError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    notifier = notifiers.get(args.target)
    if notifier is None:
        print(
            f"error: no target named {args.target} (targets: {', '.join(notifiers)})",
            file=sys.stderr,
        )
        return EXIT_INVALID
    now = datetime.now(UTC)
    sample = Alert(
        delivery_id=0,
        target=notifier.name,
        rule="test",
        level="low",
        score=1.0,
        rule_title="monitor test message",
        title="This is a test alert from monitor",
        link=None,
        feed="monitor",
        published_at=now,
        sources=1,
        sentence="If you can read this, alerts reach this target.",
        evidence=(),
    )
    result = notifier.send(Renderer(settings.alerts.templates_dir).render(sample, notifier.kind))
    where = ", ".join(notifier.describe())
    if result.ok:
        print(f"{args.target}: delivered ({where})")
        return EXIT_OK
    print(f"{args.target}: FAILED ({where}): {result.detail}")
    return EXIT_FAILURE


def _retry(settings: Settings, args: argparse.Namespace) -> int:
    if not args.ids and not args.dead:
        print("error: give delivery ids or --dead", file=sys.stderr)
        return EXIT_INVALID
    count = store.retry_deliveries(open_db(settings), datetime.now(UTC), args.ids, args.dead)
    print(f"{count} deliveries queued again")
    return EXIT_OK


def _silence_add(settings: Settings, args: argparse.Namespace) -> int:
    try:
        span = parse_duration(args.span)
    except ValueError as exc:
        print(f"error: --for: {exc}", file=sys.stderr)
        return EXIT_INVALID
    if span <= timedelta(0):
        print(f"error: --for {args.span}: a silence must last a while", file=sys.stderr)
        return EXIT_INVALID
    if args.rule is not None:
        from monitor.engine.loader import load_ruleset

        known: list[str] | None
        try:
            known = [r.id for r in load_ruleset(settings.rules_dir, settings.seeds_dir).rules]
        except RuleError:  # the daemon keeps its last good rules live: cannot tell, so allow
            known = None
            print(
                f"warning: the rules in {settings.rules_dir} do not load (see `monitor rules "
                f"check`); rule '{args.rule}' is not checked",
                file=sys.stderr,
            )
        if known is not None and args.rule not in known:
            close = difflib.get_close_matches(args.rule, known, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            print(
                f"error: --rule: no rule '{args.rule}' in {settings.rules_dir}{hint}",
                file=sys.stderr,
            )
            return EXIT_INVALID
    now = datetime.now(UTC)
    until = now + span
    silence_id = store.add_silence(open_db(settings), args.rule, until, args.reason, now)
    print(f"silence {silence_id}: {args.rule or 'every rule'} until {until:%Y-%m-%d %H:%M}Z")
    return EXIT_OK


def _silence_list(settings: Settings, _args: argparse.Namespace) -> int:
    for s in store.active_silences(open_db(settings), datetime.now(UTC)):
        print(
            f"{s.id:>4}  {s.rule or '(every rule)':<24} until {s.until:%Y-%m-%d %H:%M}Z  {s.reason}"
        )
    return EXIT_OK


def _silence_remove(settings: Settings, args: argparse.Namespace) -> int:
    if store.remove_silence(open_db(settings), args.id):
        print(f"silence {args.id} removed")
        return EXIT_OK
    print(f"error: no silence {args.id}", file=sys.stderr)
    return EXIT_INVALID
