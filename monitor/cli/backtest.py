"""The feedback half of `monitor backtest`: the matches analysts marked, run through a
(changed) rule set. Confirmed matches it would lose are regressions (exit 1); rejected
ones it would no longer make are the change doing its job."""

from collections import defaultdict
from collections.abc import Sequence

from monitor import store
from monitor.cli.context import EXIT_FAILURE, EXIT_OK
from monitor.engine.match import match_item
from monitor.engine.ruleset import RuleSet


def report_marks(ruleset: RuleSet, marked: Sequence[store.Marked], examples: int) -> int:
    """Print, per rule, the marked matches it keeps and loses; EXIT_FAILURE when a match
    marked relevant would be lost."""
    if not marked:
        print("feedback: no marked matches (mark some with `monitor feedback` or the dashboard)")
        return EXIT_OK
    kept: dict[str, list[store.Marked]] = defaultdict(list)
    gone: dict[str, list[store.Marked]] = defaultdict(list)
    for mark in marked:
        fired = {m.rule for m in match_item(ruleset, mark.item)[0]}
        (kept if mark.rule in fired else gone)[mark.rule].append(mark)
    relevant = sum(m.relevant for m in marked)
    print(
        f"feedback: {len(marked)} marked matches ({relevant} relevant, "
        f"{len(marked) - relevant} not relevant)"
    )
    print(
        f"{'RULE':<24} {'RELEVANT':>8} {'KEPT':>5} {'LOST':>5} {'REJECTED':>8} "
        f"{'DROPPED':>7} {'STILL':>5}  PRECISION (marked) NOW → AFTER"
    )
    regressions = 0
    for rule in sorted({m.rule for m in marked}):
        confirmed_kept = [m for m in kept[rule] if m.relevant]
        confirmed_lost = [m for m in gone[rule] if m.relevant]
        rejected_still = [m for m in kept[rule] if not m.relevant]
        rejected_dropped = [m for m in gone[rule] if not m.relevant]
        confirmed = len(confirmed_kept) + len(confirmed_lost)
        rejected = len(rejected_still) + len(rejected_dropped)
        before = store.Tally(confirmed, rejected).precision
        after = store.Tally(len(confirmed_kept), len(rejected_still)).precision
        print(
            f"{rule:<24} {confirmed:>8} {len(confirmed_kept):>5} {len(confirmed_lost):>5} "
            f"{rejected:>8} {len(rejected_dropped):>7} {len(rejected_still):>5}  "
            f"{_pct(before)} → {_pct(after)}"
        )
        for label, marks in (
            ("LOST relevant", confirmed_lost),
            ("dropped not relevant", rejected_dropped),
        ):
            for m in marks[:examples]:
                note = f"; note: {m.note}" if m.note else ""
                print(f"    {label}: {m.feed}: {m.item.title} (match {m.match_id}{note})")
        regressions += len(confirmed_lost)
    if regressions:
        print(f"{regressions} match(es) marked relevant would be lost")
        return EXIT_FAILURE
    return EXIT_OK


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"
