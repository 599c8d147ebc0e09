"""Match items against a compiled `RuleSet`: who (a dyad of actors), what (evidence), where
(scope), what not (exclusions). Pure: no I/O, no clock.

One Aho–Corasick pass finds every alias and vocabulary term of the item; only rules whose two
actors were both found are evaluated. Each match carries its evidence (the words, their
offsets, which actor an alias resolved to) and the sentence it fired on.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from monitor.engine.condition import (
    ActorCond,
    AllCond,
    AnyCond,
    Condition,
    ItemCond,
    NearCond,
    RegexCond,
    VocabCond,
)
from monitor.engine.lexicon import Found
from monitor.engine.ruleset import Rule, RuleSet
from monitor.engine.scan import Scan, Span, evidence
from monitor.engine.watches import verify_watch_examples
from monitor.errors import Problem
from monitor.model import Evidence, Item, Match


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A rule whose actors were (partly) present but that did not fire, and why."""

    rule: str
    item_key: str
    reason: str


def match_item(
    ruleset: RuleSet, item: Item, only: Sequence[str] | None = None
) -> tuple[list[Match], list[NearMiss]]:
    """Every rule that fires on `item`, and near misses (rules with a dyad actor present)."""
    scan = Scan(ruleset, item)
    present = {h.term.ref for h in scan.hits if h.term.kind == "alias"}
    candidates = {r.id: r for actor in present for r in ruleset.by_actor.get(actor, ())}
    matches: list[Match] = []
    misses: list[NearMiss] = []
    for rule in sorted(candidates.values(), key=lambda r: r.order):  # stable output order
        if only is not None and rule.id not in only:
            continue
        found, reason = _evaluate(rule, scan, item.key)
        if found is not None:
            matches.append(found)
        elif reason:
            misses.append(NearMiss(rule.id, item.key, reason))
    return matches, misses


def match_items(ruleset: RuleSet, items: Iterable[Item]) -> list[Match]:
    """Matches of every item, in item order."""
    return [m for item in items for m in match_item(ruleset, item)[0]]


def verify_examples(ruleset: RuleSet, today: date) -> list[Problem]:
    """A problem for each inline example that does not behave as its rule says."""
    problems = []
    for rule in ruleset.rules:
        for example in rule.examples:
            day = example.day or today
            item = Item(
                key="example",
                guid=None,
                link=None,
                title=example.text,
                summary=example.summary,
                author=None,
                published_at=_midday(day),
                date_source="feed",
                language=example.language,
            )
            matches, misses = match_item(ruleset, item, only=[rule.id])
            if example.should_match and not matches:
                why = misses[0].reason if misses else "none of its actors found"
                problems.append(
                    Problem(
                        example.pos,
                        f"example should match {rule.id} but does not ({why}): {example.text!r}",
                    )
                )
            elif matches and not example.should_match:
                words = ", ".join(sorted({e.text for e in matches[0].evidence}))
                problems.append(
                    Problem(
                        example.pos,
                        f"example should not match {rule.id} but "
                        f"does (on {words}): {example.text!r}",
                    )
                )
    return [*problems, *verify_watch_examples(ruleset.watches)]


def _evaluate(rule: Rule, scan: Scan, key: str) -> tuple[Match | None, str]:
    reason = ""
    met = False
    for unit in scan.units(rule.dyad_scope):
        a_hits, b_hits = _sides(rule, scan, unit)
        if not a_hits or not b_hits:
            continue
        pairs = [(a, b) for a in a_hits for b in b_hits]
        if rule.ignore_lists:
            pairs = [(a, b) for a, b in pairs if not scan.listed_together(a, b)]
            if not pairs:
                reason = reason or f"{rule.a} and {rule.b} only named in a list of states"
                met = True
                continue
        if rule.dyad_scope == "clause":
            pairs = [(a, b) for a, b in pairs if scan.same_clause(a, b, unit)]
            if not pairs:
                reason = reason or f"{rule.a} and {rule.b} only in separate clauses of a sentence"
                met = True
                continue
        met = True
        if rule.direction == "a->b" and min(h.start for h in a_hits) > min(h.start for h in b_hits):
            reason = reason or f"{rule.b} is named before {rule.a}"
            continue
        ok, found, region = _evidence(rule, scan, unit)
        if not ok:
            reason = (
                reason
                or f"{rule.a} and {rule.b} in {_quote(unit.text)}, but no evidence "
                f"({_describe(rule.evidence)})"
            )
            continue
        if rule.exclude:
            excluded, why = scan.holds(
                rule.exclude, unit if rule.exclude_scope == "dyad" else region
            )
            if excluded:
                words = ", ".join(sorted({h.text for h in why}))
                reason = f"excluded by {_describe(rule.exclude)}: {words}"
                continue
        actors = _first_per_actor([a for a, _ in pairs]) + _first_per_actor([b for _, b in pairs])
        return _match(rule, key, unit, actors, found, scan.text), ""
    if not met:
        reason = _missing_actor_reason(rule, scan)
    return None, reason


def _sides(rule: Rule, scan: Scan, unit: Span) -> tuple[list[Found], list[Found]]:
    """The mentions of each side that count in `unit` (the second side is not looked for
    when the first has none): with `with_title`, a body sentence also takes the sides the
    title names ("Biden hosts Quad leaders" over "Their joint declaration condemned North
    Korea's launches")."""
    borrow = rule.dyad_scope == "with_title" and not unit.is_title
    a_hits = scan.actor_hits(rule.a, unit, rule.implies)
    if borrow and not a_hits:
        a_hits = scan.actor_hits(rule.a, scan.title, rule.implies)
    if not a_hits:
        return a_hits, []
    b_hits = scan.actor_hits(rule.b, unit, rule.implies)
    if borrow and not b_hits:
        b_hits = scan.actor_hits(rule.b, scan.title, rule.implies)
    return a_hits, b_hits


def _evidence(rule: Rule, scan: Scan, unit: Span) -> tuple[bool, list[Evidence], Span]:
    """Whether the rule's evidence holds for the pair in `unit`, what it found, and where."""
    region = scan.whole if _widens(rule.evidence_scope, unit) else unit
    if rule.evidence is None:
        return True, [], region
    ok, found = scan.holds(rule.evidence, region)
    if not ok and _headline_counts(rule, scan, unit):
        region = scan.title
        ok, found = scan.holds(rule.evidence, region)
    return ok, found, region


def _widens(evidence_scope: str, unit: Span) -> bool:
    return evidence_scope == "item" or (evidence_scope != "same" and unit.is_title)


def _headline_counts(rule: Rule, scan: Scan, unit: Span) -> bool:
    """`near_title`: a body sentence that names the pair takes its evidence from a title that
    names one side and no other actor ("Strategic dialogue in Seoul" over "the vice-ministers
    of China and South Korea ..."; not "Xi meets Kim" over a sentence on China and Seoul)."""
    if rule.evidence_scope != "near_title" or unit.is_title:
        return False
    named = scan.actors_named(scan.title)
    return bool(named) and named <= {rule.a, rule.b}


def _match(
    rule: Rule, key: str, unit: Span, actors: list[Found], found: list[Evidence], text: str
) -> Match:
    kinds = {e.ref for e in found}
    score = min(1.0, 0.5 + 0.1 * min(len(kinds), 3) + (0.2 if unit.is_title else 0.0))
    pieces = [evidence(h, text) for h in actors] + _unique(found)
    return Match(
        rule.id,
        rule.version,
        rule.level,
        round(score, 2),
        key,
        unit.text,
        tuple(sorted(pieces, key=lambda e: (e.start, e.end))),
    )


def _first_per_actor(hits: list[Found]) -> list[Found]:
    first: dict[str, Found] = {}
    for hit in sorted(hits, key=lambda h: h.start):
        first.setdefault(hit.term.ref, hit)
    return list(first.values())


def _unique(evidence: list[Evidence]) -> list[Evidence]:
    return list({(e.kind, e.ref, e.start, e.end): e for e in evidence}.values())


def _missing_actor_reason(rule: Rule, scan: Scan) -> str:
    """Why the dyad was not met; '' when neither actor is there (not a near miss)."""
    has_a = bool(scan.actor_hits(rule.a, scan.whole, rule.implies))
    has_b = bool(scan.actor_hits(rule.b, scan.whole, rule.implies))
    if has_a and has_b:
        return f"{rule.a} and {rule.b} found, but never in the same {rule.dyad_scope}"
    if not has_a and not has_b:
        return ""
    found, missing = (rule.a, rule.b) if has_a else (rule.b, rule.a)
    return f"{found} found, no {missing}"


def _describe(cond: Condition | None) -> str:
    if cond is None:
        return "-"
    if isinstance(cond, VocabCond):
        return cond.set_id
    if isinstance(cond, ActorCond):
        return f"actor {cond.actor}"
    if isinstance(cond, RegexCond):
        return f"regex '{cond.pattern}'"
    if isinstance(cond, NearCond):
        first, second = (_describe(p) for p in cond.parts)
        return f"{first} within {cond.words} words of {second}"
    if isinstance(cond, ItemCond):
        return f"{_describe(cond.part)} in the item"
    word = {AnyCond: " | ", AllCond: " & "}.get(type(cond))
    inner = (word or ", ").join(_describe(p) for p in cond.parts)
    return inner if word else f"none of {inner}"


def _quote(text: str, limit: int = 70) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _midday(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
