"""Rule conditions (`evidence`, `exclude`, `implies[].when`): their parsed form and the parser
that builds it.

A condition is a vocabulary set id, or one of {any|all|none: [...]}, {vocab: ID},
{actor: ID}, {regex: PATTERN}, {near: [A, B], words: N} (A and B hold at most N words
apart: "North Korean-made missiles", "missiles nord-coréens") and {item: C} (C holds
anywhere in the item, not only where the rule looks). Regexes are compiled with RE2, a
linear-time engine, so no rule can make matching hang.
"""

import difflib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import re2

from monitor import validation, yamlpos
from monitor.errors import Pos

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


@dataclass(frozen=True, slots=True)
class VocabCond:
    set_id: str


@dataclass(frozen=True, slots=True)
class RegexCond:
    pattern: str
    compiled: Any = field(compare=False)


@dataclass(frozen=True, slots=True)
class ActorCond:
    actor: str


@dataclass(frozen=True, slots=True)
class AnyCond:
    parts: tuple["Condition", ...]


@dataclass(frozen=True, slots=True)
class AllCond:
    parts: tuple["Condition", ...]


@dataclass(frozen=True, slots=True)
class NoneCond:
    parts: tuple["Condition", ...]


@dataclass(frozen=True, slots=True)
class NearCond:
    """Both parts hold, with at most `words` words between a hit of one and a hit of the other
    (with `in_order`, the first part's hit comes first)."""

    parts: tuple["Condition", "Condition"]
    words: int = 3
    in_order: bool = False


@dataclass(frozen=True, slots=True)
class ItemCond:
    """The part holds anywhere in the item."""

    part: "Condition"


Condition = VocabCond | RegexCond | ActorCond | AnyCond | AllCond | NoneCond | NearCond | ItemCond
KEYS = ("any", "all", "none", "vocab", "actor", "regex", "near", "item")


class ConditionParser:
    """Parses `evidence`/`exclude`: a vocabulary id, or {any|all|none: [...]},
    {vocab: ID}, {actor: ID}, {regex: PATTERN}."""

    def __init__(
        self,
        report: Callable[[Pos, str], None],
        doc: yamlpos.Located,
        actors: set[str],
        vocab: set[str],
    ) -> None:
        self.report, self.doc, self.actors, self.vocab = report, doc, actors, vocab

    def parse(self, raw: Any, loc: yamlpos.Loc) -> Condition | None:
        if raw is None:
            return None
        if isinstance(raw, str):
            return self._vocab(raw, loc)
        if isinstance(raw, list):
            return self._group(AnyCond, raw, loc)
        if isinstance(raw, dict) and "near" in raw:
            return self._near(raw, loc)
        if not isinstance(raw, dict) or len(raw) != 1:
            self._error(loc, f"a condition is a vocabulary id or one of {', '.join(KEYS)}")
            return None
        ((key, value),) = raw.items()
        return self._keyed(key, value, (*loc, key))

    def _keyed(self, key: str, value: Any, here: yamlpos.Loc) -> Condition | None:
        if key in ("any", "all", "none"):
            kind = {"any": AnyCond, "all": AllCond, "none": NoneCond}[key]
            return self._group(kind, value, here)
        if key == "item":
            part = self.parse(value, here)
            return ItemCond(part) if part is not None else None
        if key in ("vocab", "actor", "regex") and isinstance(value, str):
            return self._leaf(key, value, here)
        if key not in KEYS:
            self._error(here, f"unknown condition '{key}'{close_match(key, set(KEYS))}")
        else:
            self._error(here, f"'{key}' takes a text value")
        return None

    def _leaf(self, key: str, value: str, here: yamlpos.Loc) -> Condition | None:
        if key == "vocab":
            return self._vocab(value, here)
        if key == "actor":
            if value not in self.actors:
                self._error(here, f"unknown actor '{value}'{close_match(value, self.actors)}")
            return ActorCond(value)
        try:
            return RegexCond(value, re2.compile(value, options=_RE2_OPTIONS))
        except re2.error as exc:
            detail = exc.args[0] if exc.args else exc
            text = detail.decode() if isinstance(detail, bytes) else str(detail)
            self._error(here, f"invalid regex: {text}")
            return None

    def _near(self, raw: dict[str, Any], loc: yamlpos.Loc) -> Condition | None:
        extra = sorted(set(raw) - {"near", "words", "in_order"})
        if extra:
            self._error((*loc, extra[0]), "near takes only `words` and `in_order` beside it")
            return None
        parts, words, in_order = raw["near"], raw.get("words", 3), raw.get("in_order", False)
        if not isinstance(in_order, bool):
            self._error((*loc, "in_order"), "in_order: true or false")
            return None
        if not isinstance(parts, list) or len(parts) != 2:
            self._error((*loc, "near"), "near takes a list of two conditions")
            return None
        if not isinstance(words, int) or isinstance(words, bool) or not 0 <= words <= 30:
            self._error((*loc, "words"), "words: a whole number from 0 to 30")
            return None
        first = self.parse(parts[0], (*loc, "near", 0))
        second = self.parse(parts[1], (*loc, "near", 1))
        if first is None or second is None:
            return None
        return NearCond((first, second), words, in_order)

    def _vocab(self, name: str, loc: yamlpos.Loc) -> VocabCond:
        if name not in self.vocab:
            self._error(loc, f"unknown vocabulary set '{name}'{close_match(name, self.vocab)}")
        return VocabCond(name)

    def _group(self, kind: Any, raw: Any, loc: yamlpos.Loc) -> Condition | None:
        if not isinstance(raw, list) or not raw:
            self._error(loc, "expected a non-empty list of conditions")
            return None
        parts = [self.parse(part, (*loc, i)) for i, part in enumerate(raw)]
        return kind(tuple(p for p in parts if p is not None))  # type: ignore[no-any-return]

    def _error(self, loc: yamlpos.Loc, message: str) -> None:
        self.report(self.doc.pos_of(loc), f"{validation.dotted(loc)}: {message}")


def _parts(cond: Condition) -> tuple[Condition, ...]:
    if isinstance(cond, AnyCond | AllCond | NoneCond | NearCond):
        return tuple(cond.parts)
    if isinstance(cond, ItemCond):
        return (cond.part,)
    return ()


def vocab_refs(cond: Condition | None) -> Iterator[VocabCond]:
    if isinstance(cond, VocabCond):
        yield cond
    elif cond is not None:
        for part in _parts(cond):
            yield from vocab_refs(part)


def actor_refs(cond: Condition | None) -> Iterator[ActorCond]:
    if isinstance(cond, ActorCond):
        yield cond
    elif cond is not None:
        for part in _parts(cond):
            yield from actor_refs(part)


def close_match(name: str, known: set[str]) -> str:
    """` (did you mean 'X'?)` when a known name is close to `name`, else ''."""
    found = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean '{found[0]}'?)" if found else ""
