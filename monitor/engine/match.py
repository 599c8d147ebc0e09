"""Match items against a compiled `RuleSet`: who (a dyad of actors), what (evidence), where
(scope), what not (exclusions). Pure: no I/O, no clock.

One Aho–Corasick pass finds every alias and vocabulary term of the item; only rules whose two
actors were both found are evaluated. Each match carries its evidence (the words, their
offsets, which actor an alias resolved to) and the sentence it fired on.
"""

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from monitor.engine.condition import (
    ActorCond,
    AllCond,
    AnyCond,
    Condition,
    NoneCond,
    RegexCond,
    VocabCond,
)
from monitor.engine.lexicon import Found
from monitor.engine.ruleset import Rule, RuleSet
from monitor.engine.segment import item_text, split_sentences
from monitor.errors import Problem
from monitor.model import Evidence, Item, Match

# What may stand between two neighbours of a list: a comma or a conjunction (six languages).
_LIST_GAP = re.compile(
    r"^\s*(?:[,;/、，·]|and|or|&|и|или|ve|veya|ile|및|과|와|和|与|及|と)?\s*"
    r"(?:and|or|и|ve)?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class NearMiss:
    """A rule whose actors were (partly) present but that did not fire, and why."""

    rule: str
    item_key: str
    reason: str


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    text: str
    is_title: bool


class _Scan:
    """The item's text, its sentences and the dictionary hits that survived the guards."""

    def __init__(self, ruleset: RuleSet, item: Item) -> None:
        self.text = item_text(item.title, item.summary)
        day = item.published_at.date()
        found = ruleset.lexicon.scan(self.text)
        guards = [f for f in found if f.term.kind == "guard"]
        self.hits = [
            f
            for f in found
            if f.term.kind == "vocab"
            or (f.term.kind == "alias" and _in_office(f, day) and not _guarded(f, guards))
        ]
        self.actors = ruleset.actors
        title_end = len(item.title)
        self.whole = _Span(0, len(self.text), self.text, is_title=False)
        self.title = _Span(0, title_end, item.title, is_title=True)
        self.sentences = [
            _Span(s.start, s.end, s.text, is_title=s.end <= title_end)
            for s in split_sentences(self.text)
        ]

    def actor_hits(self, actor: str, span: _Span) -> list[Found]:
        direct = [h for h in self._in(span) if h.term.kind == "alias" and h.term.ref == actor]
        members = self.actors[actor].members if actor in self.actors else ()
        if direct or not members:
            return direct
        by_member = [self.actor_hits(m, span) for m in members]
        return [h for hits in by_member for h in hits] if all(by_member) else []

    def listed_together(self, one: Found, other: Found) -> bool:
        """True when the two mentions are neighbours in a list of three or more states
        ("China, Russia, North Korea and Iran"): a list is not a relationship."""
        first, second = sorted((one, other), key=lambda h: h.start)
        if not _LIST_GAP.match(self.text[first.end : second.start]):
            return False
        refs = {one.term.ref, other.term.ref}
        for hit in self.hits:
            if hit.term.kind != "alias" or hit.term.ref in refs:
                continue
            if hit.end <= first.start and _LIST_GAP.match(self.text[hit.end : first.start]):
                return True
            if hit.start >= second.end and _LIST_GAP.match(self.text[second.end : hit.start]):
                return True
        return False

    def vocab_hits(self, set_id: str, span: _Span) -> list[Found]:
        return [h for h in self._in(span) if h.term.kind == "vocab" and h.term.ref == set_id]

    def units(self, scope: str) -> list[_Span]:
        return {"sentence": self.sentences, "title": [self.title], "item": [self.whole]}[scope]

    def _in(self, span: _Span) -> Iterator[Found]:
        return (h for h in self.hits if span.start <= h.start and h.end <= span.end)


def match_item(
    ruleset: RuleSet, item: Item, only: Sequence[str] | None = None
) -> tuple[list[Match], list[NearMiss]]:
    """Every rule that fires on `item`, and near misses (rules with a dyad actor present)."""
    scan = _Scan(ruleset, item)
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
                summary="",
                author=None,
                published_at=_midday(day),
                date_source="feed",
                language=None,
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
    return problems


def _evaluate(rule: Rule, scan: _Scan, key: str) -> tuple[Match | None, str]:
    reason = ""
    met = False
    for unit in scan.units(rule.dyad_scope):
        a_hits, b_hits = scan.actor_hits(rule.a, unit), scan.actor_hits(rule.b, unit)
        if not a_hits or not b_hits:
            continue
        if rule.ignore_lists and all(scan.listed_together(a, b) for a in a_hits for b in b_hits):
            reason = reason or f"{rule.a} and {rule.b} only named in a list of states"
            met = True
            continue
        met = True
        if rule.direction == "a->b" and min(h.start for h in a_hits) > min(h.start for h in b_hits):
            reason = reason or f"{rule.b} is named before {rule.a}"
            continue
        region = scan.whole if _widens(rule.evidence_scope, unit) else unit
        ok, evidence = _holds(rule.evidence, scan, region) if rule.evidence else (True, [])
        if not ok:
            reason = (
                reason
                or f"{rule.a} and {rule.b} in {_quote(unit.text)}, but no evidence "
                f"({_describe(rule.evidence)})"
            )
            continue
        if rule.exclude:
            excluded, why = _holds(
                rule.exclude, scan, unit if rule.exclude_scope == "dyad" else region
            )
            if excluded:
                words = ", ".join(sorted({h.text for h in why}))
                reason = f"excluded by {_describe(rule.exclude)}: {words}"
                continue
        actors = _first_per_actor(a_hits) + _first_per_actor(b_hits)
        return _match(rule, key, unit, actors, evidence, scan.text), ""
    if not met:
        reason = _missing_actor_reason(rule, scan)
    return None, reason


def _widens(evidence_scope: str, unit: _Span) -> bool:
    return evidence_scope == "item" or (evidence_scope == "near" and unit.is_title)


def _holds(cond: Condition, scan: _Scan, span: _Span) -> tuple[bool, list[Evidence]]:
    if isinstance(cond, VocabCond):
        hits = scan.vocab_hits(cond.set_id, span)
        return bool(hits), [_evidence(h, scan.text) for h in hits]
    if isinstance(cond, ActorCond):
        hits = scan.actor_hits(cond.actor, span)
        return bool(hits), [_evidence(h, scan.text) for h in hits]
    if isinstance(cond, RegexCond):
        found = cond.compiled.search(span.text)
        if found is None:
            return False, []
        start, end = span.start + found.start(), span.start + found.end()
        return True, [Evidence("regex", cond.pattern, scan.text[start:end], start, end)]
    results = [_holds(part, scan, span) for part in cond.parts]
    if isinstance(cond, AnyCond):
        return any(ok for ok, _ in results), [e for ok, ev in results if ok for e in ev]
    if isinstance(cond, AllCond):
        return all(ok for ok, _ in results), [e for _, ev in results for e in ev]
    assert isinstance(cond, NoneCond)
    return not any(ok for ok, _ in results), []


def _match(
    rule: Rule, key: str, unit: _Span, actors: list[Found], evidence: list[Evidence], text: str
) -> Match:
    kinds = {e.ref for e in evidence}
    score = min(1.0, 0.5 + 0.1 * min(len(kinds), 3) + (0.2 if unit.is_title else 0.0))
    pieces = [_evidence(h, text) for h in actors] + _unique(evidence)
    return Match(
        rule.id,
        rule.version,
        rule.level,
        round(score, 2),
        key,
        unit.text,
        tuple(sorted(pieces, key=lambda e: (e.start, e.end))),
    )


def _evidence(found: Found, text: str) -> Evidence:
    kind = "actor" if found.term.kind == "alias" else found.term.kind
    return Evidence(
        kind, found.term.ref, text[found.start : found.end], found.start, found.end, found.term.via
    )


def _first_per_actor(hits: list[Found]) -> list[Found]:
    first: dict[str, Found] = {}
    for hit in sorted(hits, key=lambda h: h.start):
        first.setdefault(hit.term.ref, hit)
    return list(first.values())


def _unique(evidence: list[Evidence]) -> list[Evidence]:
    return list({(e.kind, e.ref, e.start, e.end): e for e in evidence}.values())


def _in_office(found: Found, day: date) -> bool:
    term = found.term
    if term.valid_from and day < term.valid_from:
        return False
    return not (term.valid_to and day > term.valid_to)


def _guarded(found: Found, guards: list[Found]) -> bool:
    return any(
        g.term.ref == found.term.ref and g.start <= found.start and found.end <= g.end
        for g in guards
    )


def _missing_actor_reason(rule: Rule, scan: _Scan) -> str:
    """Why the dyad was not met; '' when neither actor is there (not a near miss)."""
    has_a = bool(scan.actor_hits(rule.a, scan.whole))
    has_b = bool(scan.actor_hits(rule.b, scan.whole))
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
    word = {AnyCond: " | ", AllCond: " & "}.get(type(cond))
    inner = (word or ", ").join(_describe(p) for p in cond.parts)
    return inner if word else f"none of {inner}"


def _quote(text: str, limit: int = 70) -> str:
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def _midday(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
