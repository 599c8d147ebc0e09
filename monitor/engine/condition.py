"""Rule conditions (`evidence`, `exclude`): their parsed form and the parser that builds it.

A condition is a vocabulary set id, or one of {any|all|none: [...]}, {vocab: ID},
{actor: ID}, {regex: PATTERN}. Regexes are compiled with RE2, a linear-time engine, so no
rule can make matching hang.
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


Condition = VocabCond | RegexCond | ActorCond | AnyCond | AllCond | NoneCond


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
        if not isinstance(raw, dict) or len(raw) != 1:
            self._error(
                loc, "a condition is a vocabulary id or one of any, all, none, vocab, actor, regex"
            )
            return None
        ((key, value),) = raw.items()
        here = (*loc, key)
        if key in ("any", "all", "none"):
            kind = {"any": AnyCond, "all": AllCond, "none": NoneCond}[key]
            return self._group(kind, value, here)
        if key == "vocab" and isinstance(value, str):
            return self._vocab(value, here)
        if key == "actor" and isinstance(value, str):
            if value not in self.actors:
                self._error(here, f"unknown actor '{value}'{close_match(value, self.actors)}")
            return ActorCond(value)
        if key == "regex" and isinstance(value, str):
            try:
                return RegexCond(value, re2.compile(value, options=_RE2_OPTIONS))
            except re2.error as exc:
                detail = exc.args[0] if exc.args else exc
                text = detail.decode() if isinstance(detail, bytes) else str(detail)
                self._error(here, f"invalid regex: {text}")
                return None
        known = ("any", "all", "none", "vocab", "actor", "regex")
        if key not in known:
            self._error(here, f"unknown condition '{key}'{close_match(key, set(known))}")
        else:
            self._error(here, f"'{key}' takes a text value")
        return None

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


def vocab_refs(cond: Condition | None) -> Iterator[VocabCond]:
    if isinstance(cond, VocabCond):
        yield cond
    elif isinstance(cond, AnyCond | AllCond | NoneCond):
        for part in cond.parts:
            yield from vocab_refs(part)


def actor_refs(cond: Condition | None) -> Iterator[ActorCond]:
    if isinstance(cond, ActorCond):
        yield cond
    elif isinstance(cond, AnyCond | AllCond | NoneCond):
        for part in cond.parts:
            yield from actor_refs(part)


def close_match(name: str, known: set[str]) -> str:
    """` (did you mean 'X'?)` when a known name is close to `name`, else ''."""
    found = difflib.get_close_matches(name, sorted(known), n=1)
    return f" (did you mean '{found[0]}'?)" if found else ""
