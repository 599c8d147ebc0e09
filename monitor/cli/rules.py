"""Commands about rules: `rules check`, `rules test` (no storage) and `backtest`."""

import argparse
import json
import os
import sys
from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor import store
from monitor.cli.context import (
    EXIT_FAILURE,
    EXIT_INVALID,
    EXIT_OK,
    CommandError,
    open_db,
    print_problems,
)
from monitor.errors import ParseError, RuleError
from monitor.model import Item, Match
from monitor.settings import Settings

if TYPE_CHECKING:  # the engine loads when a rules command runs (tests/test_cli_startup.py)
    from monitor.engine.match import NearMiss
    from monitor.engine.ruleset import RuleSet


def add_commands(commands: Any) -> None:
    """Register `rules check`, `rules test` and `backtest`."""
    rules = commands.add_parser("rules", help="check and try rules")
    sub = rules.add_subparsers(dest="rules_command", required=True, metavar="COMMAND")
    check = sub.add_parser("check", help="validate rules and run their inline examples")
    check.add_argument(
        "paths",
        nargs="*",
        type=Path,
        metavar="PATH",
        help="rules folders (default: rules_dir from the config)",
    )
    check.add_argument("--strict", action="store_true", help="treat warnings as errors")
    check.set_defaults(handler=_check)

    test = sub.add_parser("test", help="match feed files against the rules; store nothing")
    test.add_argument("files", nargs="+", type=Path, metavar="FEED_FILE")
    test.add_argument("--rule", action="append", metavar="ID", help="only this rule (repeatable)")
    test.add_argument("--explain", action="store_true", help="also show near misses and why")
    test.add_argument("--format", choices=("text", "jsonl"), default="text")
    test.set_defaults(handler=_test)

    backtest = commands.add_parser(
        "backtest", help="run the current rules over stored items; compare with recorded matches"
    )
    backtest.add_argument("--since", type=date.fromisoformat, metavar="YYYY-MM-DD")
    backtest.add_argument(
        "--examples", type=int, default=3, metavar="N", help="example titles per change (default 3)"
    )
    backtest.add_argument(
        "--rules",
        type=Path,
        metavar="PATH",
        help="a changed rules folder to try instead of rules_dir (e.g. a copy being edited)",
    )
    backtest.set_defaults(handler=_backtest)


def _load(settings: Settings, rules_dir: Path | None = None) -> "RuleSet":
    from monitor.engine.lemma import use_dictionary_files
    from monitor.engine.loader import load_ruleset

    use_dictionary_files(settings.cache_dir)
    folder = rules_dir or settings.rules_dir
    if not folder.is_dir():
        print(f"error: no rules folder at {folder}", file=sys.stderr)
        raise CommandError(EXIT_INVALID)
    if not any(folder.glob("*.yaml")):
        print(f"error: no rule files (*.yaml) in {folder}", file=sys.stderr)
        raise CommandError(EXIT_INVALID)
    try:
        return load_ruleset(folder, settings.seeds_dir)
    except RuleError as exc:
        print_problems(exc.problems)
        raise CommandError(EXIT_INVALID) from exc


def _check(settings: Settings, args: argparse.Namespace) -> int:
    missing = [p for p in args.paths if not p.exists()]
    for path in missing:  # never its parent folder instead: that may hold monitor.yaml
        print(f"error: {path}: no such file or folder", file=sys.stderr)
    folders = [p if p.is_dir() else p.parent for p in args.paths if p.exists()]
    if not args.paths:
        folders = [settings.rules_dir]
    worst = EXIT_INVALID if missing else EXIT_OK
    from monitor.alerts.route import unknown_targets
    from monitor.engine.match import verify_examples

    for folder in dict.fromkeys(folders):
        try:
            ruleset = _load(settings, folder)
        except CommandError as exc:
            worst = max(worst, exc.code)
            continue
        problems = [*verify_examples(ruleset, datetime.now(UTC).date()), *ruleset.warnings]
        if settings.source != os.devnull:  # targets are known only from a config file
            problems += unknown_targets(ruleset, settings.targets)
        problems.sort(key=lambda p: (p.pos.path, p.pos.line, p.pos.col) if p.pos else ("", 0, 0))
        if problems:
            print_problems(problems)
        examples = sum(len(r.examples) for r in ruleset.rules) + sum(
            len(w.examples) for w in ruleset.watches
        )
        spikes = f" and {len(ruleset.watches)} spike rules" if ruleset.watches else ""
        errors = any(p.severity == "error" for p in problems)
        if errors or (args.strict and problems):
            worst = EXIT_INVALID
        else:
            print(
                f"{folder}: {len(ruleset.rules)} rules{spikes}, {examples} examples, "
                f"{ruleset.lexicon.size} dictionary terms: ok"
            )
    return worst


def _test(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.engine.match import match_item

    ruleset = _load(settings)
    unknown = [r for r in args.rule or [] if ruleset.get(r) is None]
    if unknown:
        print(f"error: no rule {', '.join(unknown)}", file=sys.stderr)
        return EXIT_INVALID
    failed = False
    for path in args.files:
        try:
            items = _items_of(path)
        except (OSError, ParseError) as exc:
            print(f"{path}: error: {exc}", file=sys.stderr)
            failed = True
            continue
        for item in items:
            matches, misses = match_item(ruleset, item, only=args.rule)
            _report(path, item, matches, misses if args.explain else [], args.format)
    return EXIT_FAILURE if failed else EXIT_OK


def _items_of(path: Path) -> tuple[Item, ...]:
    from monitor.ingest.document import read_document

    _, items = read_document(
        path.read_bytes(),
        None,
        url=path.resolve().as_uri(),
        language=None,
        fetched_at=datetime.now(UTC),
    )
    return items


def _report(
    path: Path, item: Item, matches: list[Match], misses: "list[NearMiss]", fmt: str
) -> None:
    guid = item.guid or item.link or item.key
    if fmt == "jsonl":
        for m in matches:
            print(
                json.dumps(
                    {
                        "rule": m.rule,
                        "guid": guid,
                        "title": item.title,
                        "score": m.score,
                        "level": m.level,
                        "version": m.version,
                        "sentence": m.sentence,
                        "evidence": [asdict(e) for e in m.evidence],
                        "file": str(path),
                    },
                    ensure_ascii=False,
                )
            )
        for miss in misses:
            print(
                json.dumps(
                    {
                        "near_miss": miss.rule,
                        "guid": guid,
                        "title": item.title,
                        "reason": miss.reason,
                    },
                    ensure_ascii=False,
                )
            )
        return
    for m in matches:
        shown = dict.fromkeys((e.text, e.ref) for e in m.evidence)  # once per word and meaning
        words = "; ".join(f"{text} ({ref})" for text, ref in shown)
        print(
            f"MATCH {m.rule} [{m.level} {m.score:.2f}] {guid}: {item.title}\n"
            f"  sentence: {m.sentence}\n  evidence: {words}"
        )
    for miss in misses:
        print(f"  near miss {miss.rule} on {guid}: {miss.reason}")


def _backtest(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.cli.backtest import report_marks
    from monitor.engine.match import match_item

    ruleset = _load(settings, args.rules)
    since = (
        datetime(args.since.year, args.since.month, args.since.day, tzinfo=UTC)
        if args.since
        else None
    )
    db = open_db(settings)
    recorded = store.recorded_items(db, since)
    now: dict[str, list[str]] = defaultdict(list)
    before: dict[str, list[str]] = defaultdict(list)
    gained: dict[str, list[str]] = defaultdict(list)
    lost: dict[str, list[str]] = defaultdict(list)
    for entry in recorded:
        fired = {m.rule for m in match_item(ruleset, entry.item)[0]}
        label = f"{entry.feed}: {entry.item.title}"
        for rule in fired:
            now[rule].append(label)
        for rule in entry.rules:
            before[rule].append(label)
        for rule in fired - set(entry.rules):
            gained[rule].append(label)
        for rule in set(entry.rules) - fired:
            lost[rule].append(label)
    print(f"{len(recorded)} stored items" + (f" since {args.since}" if args.since else ""))
    print(f"{'RULE':<24} {'NOW':>5} {'BEFORE':>7} {'+NEW':>5} {'-LOST':>6}  VERSION")
    for rule_id in sorted({*ruleset.by_id, *before}):
        current = ruleset.get(rule_id)
        version = current.version if current else "(removed)"
        print(
            f"{rule_id:<24} {len(now[rule_id]):>5} {len(before[rule_id]):>7} "
            f"{len(gained[rule_id]):>5} {len(lost[rule_id]):>6}  {version}"
        )
        for sign, labels in (("+", gained[rule_id]), ("-", lost[rule_id])):
            for label in labels[: args.examples]:
                print(f"    {sign} {label}")
    # the analysts' marks are the regression set: losing a confirmed match fails
    return report_marks(ruleset, store.marked_items(db, since), args.examples)
