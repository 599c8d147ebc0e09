"""What one item contains and where: its languages, its dictionary hits (guards applied), its
sentences and clauses, and the conditions of a rule evaluated over a part of it. Pure.

Every other question the matcher asks ("are both actors in this sentence?", "is there
evidence near the pair?", "is this actor implied here?") is answered from one `Scan`.
"""

import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from monitor.engine.condition import (
    ActorCond,
    AllCond,
    AnyCond,
    Condition,
    ItemCond,
    NearCond,
    NoneCond,
    RegexCond,
    VocabCond,
)
from monitor.engine.languages import DEFAULT_CLAUSES, list_gap, list_join
from monitor.engine.lexicon import Found, Term
from monitor.engine.ruleset import Implied, RuleSet
from monitor.engine.segment import item_text, split_sentences
from monitor.model import Evidence, Item

_WORD = re.compile(r"[^\W_]+")
_DEFAULT_GAP = list_gap()
_DEFAULT_JOIN = list_join()
# Another member of a list that is not an actor: one or two capitalised words ("Iran").
_MEMBER = re.compile(r"^\s*(?:[^\W\d_][\w'’.-]*)(?:\s+[^\W\d_][\w'’.-]*)?\s*$")
# the word before a list's first actor, set off by a comma, and the word before it:
# "in Iran, Russia and …"
_LEADING_MEMBER = re.compile(r"(\S*)\s+([^\W\d_][\w'’-]*),\s*$")
_NOT_MEMBERS = frozenset(
    "Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May "
    "June July August September October November December Today Yesterday".split()
)
# a word right after a list's conjunction: "… North Korea and Iran"
_TRAILING_MEMBER = re.compile(r"\s*([^\W\d_][\w'’-]*)")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    text: str
    is_title: bool


class Scan:
    """The item's text, its languages, its sentences and the hits that survived the guards."""

    def __init__(self, ruleset: RuleSet, item: Item) -> None:
        self.text = item_text(item.title, item.summary)
        day = item.published_at.date()
        langs = ruleset.languages
        self.languages = langs.of_item(self.text, item.language) if langs else None
        found = ruleset.lexicon.scan(self.text, self.languages)
        guards = [f for f in found if f.term.kind in ("guard", "vocab-guard")]
        self.hits = (
            [
                f
                for f in found
                if (f.term.kind == "vocab" and not _guarded(f, guards, "vocab-guard"))
                or (
                    f.term.kind == "alias"
                    and _in_office(f, day)
                    and not _guarded(f, guards, "guard")
                )
            ]
            if guards
            else [
                f
                for f in found
                if f.term.kind == "vocab" or (f.term.kind == "alias" and _in_office(f, day))
            ]
        )
        self.actors = ruleset.actors
        self.list_gap = langs.list_gap if langs else _DEFAULT_GAP
        self.list_join = langs.list_join if langs else _DEFAULT_JOIN
        self.clauses = langs.clauses if langs else DEFAULT_CLAUSES
        title_end = len(item.title)
        self.whole = Span(0, len(self.text), self.text, is_title=False)
        self.title = Span(0, title_end, item.title, is_title=True)
        # the hits of each span asked about, by (kind, ref): every rule asks about the same
        # sentences, each for several actors and words
        self._indexes: dict[tuple[int, int], dict[tuple[str, str], list[Found]]] = {}
        # and the answers already given: rules share actors, implications and conditions,
        # and a `with_title` rule asks about the title for every sentence (keys hold ids of
        # the rule set's conditions, which outlive the scan)
        self._actors: dict[tuple[str, int, int, int], list[Found]] = {}
        self._holds: dict[tuple[int, int, int], tuple[bool, list[Evidence]]] = {}

    @cached_property
    def sentences(self) -> list[Span]:
        """Cut only when a rule asks: most items name no rule's actors and need none."""
        title_end = self.title.end
        return [
            Span(s.start, s.end, s.text, is_title=s.end <= title_end)
            for s in split_sentences(self.text)
        ]

    def actor_hits(self, actor: str, span: Span, implies: tuple[Implied, ...] = ()) -> list[Found]:
        """Mentions of `actor` in `span`: named, named through all its members, or implied
        (the list is shared: not to be changed)."""
        key = (actor, span.start, span.end, id(implies))
        known = self._actors.get(key)
        if known is None:
            known = self._actors[key] = self._actor_hits(actor, span, implies)
        return known

    def _actor_hits(self, actor: str, span: Span, implies: tuple[Implied, ...]) -> list[Found]:
        direct = list(self._index(span).get(("alias", actor), ()))
        members = self.actors[actor].members if actor in self.actors else ()
        if not direct and members:
            by_member = [self.actor_hits(m, span) for m in members]
            direct = [h for hits in by_member for h in hits] if all(by_member) else []
        for implied in implies:
            if implied.actor == actor and not direct:
                ok, why = self.holds(implied.when, span)
                # the words in this unit that imply it (not those an {item: …} found elsewhere)
                why = [e for e in why if span.start <= e.start and e.end <= span.end]
                if ok and why:
                    start, end = min(e.start for e in why), max(e.end for e in why)
                    term = Term(self.text[start:end], "implied", actor, "implied")
                    direct.append(Found(term, start, end))
        return direct

    def actors_named(self, span: Span) -> set[str]:
        """The actors named in `span` (not implied)."""
        return {ref for kind, ref in self._index(span) if kind == "alias"}

    def listed_together(self, one: Found, other: Found) -> bool:
        """True when the two mentions belong to one list of three or more states ("China,
        Russia, Iran, North Korea"): a list is not a relationship."""
        chain, others = self._list_of(one)
        if other not in chain:
            return False
        return len({h.term.ref for h in chain}) + others + self._edge_members(chain) >= 3

    def _edge_members(self, chain: list[Found]) -> int:
        """List members that are no actor at the ends of a chain: one before it, set off by a
        comma ("Iran, Russia and North Korea"), and one after it, joined by a conjunction
        ("Russia, North Korea and Iran"). A comma after the chain is left alone: "…, Kremlin
        says" ends a sentence more often than a list does."""
        first = min(h.start for h in chain)
        last = max(h.end for h in chain)
        found = 0
        before = _LEADING_MEMBER.search(self.text[max(0, first - 60) : first])
        # the member must follow a lower-case word ("firms in Iran, Russia and …"): a capital
        # that opens the sentence ("Meanwhile, Russia …", "On Tuesday, Russia …") is no member
        if (
            before
            and before.group(2)[0].isupper()
            and before.group(1)[-1:].islower()
            and before.group(2) not in _NOT_MEMBERS
        ):
            found += 1
        after = self.text[last : last + 60]
        joiner = self.list_join.match(after.lstrip())
        if joiner and joiner.group().strip() not in (",", ";", "、", "，"):
            rest = after.lstrip()[joiner.end() :]
            member = _TRAILING_MEMBER.match(rest)
            if member and member.group(1)[0].isupper():
                found += 1
        return found

    def _list_of(self, mention: Found) -> tuple[list[Found], int]:
        """The actor mentions joined to `mention` by commas and conjunctions (and other list
        members that are not actors: "Russia, Iran, North Korea"), and how many others."""
        mentions = sorted(
            (h for h in self.hits if h.term.kind == "alias"), key=lambda h: (h.start, -h.end)
        )
        chain, others = [mention], 0
        for step in (1, -1):
            edge = mention
            for hit in mentions[::step]:
                gap = (
                    self.text[edge.end : hit.start]
                    if step == 1
                    else self.text[hit.end : edge.start]
                )
                ahead = hit.start >= edge.end if step == 1 else hit.end <= edge.start
                if not ahead:
                    continue
                joined = self._joins(gap)
                if joined is None:
                    break
                chain.append(hit)
                others += joined
                edge = hit
        return chain, others

    def _joins(self, gap: str) -> int | None:
        """None when `gap` does not join two list members, else how many other (non-actor)
        members stand in it."""
        if self.list_gap.match(gap):
            return 0
        pieces = self.list_join.split(gap)
        if len(pieces) < 3 or any(p.strip() for p in (pieces[0], pieces[-1])):
            return None
        inner = pieces[1:-1]
        members = [p for p in inner if p.strip()]
        if not all(_MEMBER.match(p) and p.strip()[0].isupper() for p in members):
            return None
        return len(members)

    def same_clause(self, one: Found, other: Found, unit: Span) -> bool:
        """The two mentions share a clause of `unit`, or the first opens the sentence and so is
        the subject of the clauses that follow ("North Korea tests missiles, sends troops to
        Russia"); two objects of separate clauses are not a pair."""
        first, second = sorted((one, other), key=lambda h: h.start)
        starts = [unit.start + s for s in self.clauses.starts(unit.text)]
        between = [s for s in starts if first.end <= s <= second.start]
        if not between:
            return True
        opening = max((s for s in starts if s <= first.start), default=unit.start)
        return opening == unit.start and _words(self.text[unit.start : first.start]) <= 1

    def vocab_hits(self, set_id: str, span: Span) -> list[Found]:
        return list(self._index(span).get(("vocab", set_id), ()))

    def units(self, scope: str) -> list[Span]:
        if scope in ("sentence", "clause", "with_title"):
            return self.sentences
        return {"title": [self.title], "item": [self.whole]}[scope]

    def holds(self, cond: Condition, span: Span) -> tuple[bool, list[Evidence]]:
        """Whether `cond` holds in `span`, and the words that make it hold (the list is
        shared: not to be changed)."""
        key = (id(cond), span.start, span.end)
        known = self._holds.get(key)
        if known is None:
            known = self._holds[key] = self._holds_now(cond, span)
        return known

    def _holds_now(self, cond: Condition, span: Span) -> tuple[bool, list[Evidence]]:
        if isinstance(cond, VocabCond):
            hits = self.vocab_hits(cond.set_id, span)
            return bool(hits), [evidence(h, self.text) for h in hits]
        if isinstance(cond, ActorCond):
            hits = self.actor_hits(cond.actor, span)
            return bool(hits), [evidence(h, self.text) for h in hits]
        if isinstance(cond, RegexCond):
            found = cond.compiled.search(span.text)
            if found is None:
                return False, []
            start, end = span.start + found.start(), span.start + found.end()
            return True, [Evidence("regex", cond.pattern, self.text[start:end], start, end)]
        if isinstance(cond, ItemCond):
            return self.holds(cond.part, self.whole)
        if isinstance(cond, NearCond):
            return self._near(cond, span)
        results = [self.holds(part, span) for part in cond.parts]
        if isinstance(cond, AnyCond):
            return any(ok for ok, _ in results), [e for ok, ev in results if ok for e in ev]
        if isinstance(cond, AllCond):
            return all(ok for ok, _ in results), [e for _, ev in results for e in ev]
        assert isinstance(cond, NoneCond)
        return not any(ok for ok, _ in results), []

    def _near(self, cond: NearCond, span: Span) -> tuple[bool, list[Evidence]]:
        (ok_a, ev_a), (ok_b, ev_b) = (self.holds(part, span) for part in cond.parts)
        if not (ok_a and ok_b):
            return False, []
        pairs = [
            (a, b)
            for a in ev_a
            for b in ev_b
            if (a.start, a.end) != (b.start, b.end)
            and self._gap(a, b) <= cond.words
            and (not cond.in_order or a.start < b.start)
        ]
        if not pairs:
            return False, []
        return True, _unique([e for pair in pairs for e in pair])

    def _gap(self, one: Evidence, other: Evidence) -> int:
        first, second = sorted((one, other), key=lambda e: e.start)
        if second.start < first.end:
            return 0
        between = self.text[first.end : second.start]
        return 99 if "\n" in between else _words(between)

    def _index(self, span: Span) -> dict[tuple[str, str], list[Found]]:
        """The hits inside `span` by (kind, ref), each list in the order of `hits`."""
        index = self._indexes.get((span.start, span.end))
        if index is None:
            index = {}
            for h in self.hits:
                if span.start <= h.start and h.end <= span.end:
                    index.setdefault((h.term.kind, h.term.ref), []).append(h)
            self._indexes[span.start, span.end] = index
        return index


def evidence(found: Found, text: str) -> Evidence:
    kind = "actor" if found.term.kind in ("alias", "implied") else found.term.kind
    return Evidence(
        kind, found.term.ref, text[found.start : found.end], found.start, found.end, found.term.via
    )


def _unique(items: list[Evidence]) -> list[Evidence]:
    return list({(e.kind, e.ref, e.start, e.end): e for e in items}.values())


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _in_office(found: Found, day: date) -> bool:
    term = found.term
    if term.valid_from and day < term.valid_from:
        return False
    return not (term.valid_to and day > term.valid_to)


def _guarded(found: Found, guards: list[Found], kind: str) -> bool:
    return any(
        g.term.kind == kind
        and g.term.ref == found.term.ref
        and g.start <= found.start
        and found.end <= g.end
        for g in guards
    )
