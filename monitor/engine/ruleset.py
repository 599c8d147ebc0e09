"""The compiled rule set: immutable, typed values the matcher and the alert stage read.

Built only by `monitor.engine.loader`; nothing here reads files or validates input.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from monitor.engine.condition import Condition
from monitor.engine.languages import Languages
from monitor.engine.lexicon import Lexicon
from monitor.engine.schema import Direction, DyadScope, EvidenceScope, ExcludeScope
from monitor.engine.watches import Watch
from monitor.errors import Pos, Problem
from monitor.model import Level


@dataclass(frozen=True, slots=True)
class Example:
    """An inline example of a rule: a headline (and a body) that must (or must not) match."""

    text: str
    day: date | None
    should_match: bool
    pos: Pos
    language: str | None = None  # None: detected from the text
    summary: str = ""


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    name: str
    members: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Implied:
    """`actor` counts as present (implied) in a unit where `when` holds."""

    actor: str
    when: Condition


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    level: Level
    tags: tuple[str, ...]
    seed: str
    a: str
    b: str
    direction: Direction
    ignore_lists: bool
    dyad_scope: DyadScope
    evidence_scope: EvidenceScope
    exclude_scope: ExcludeScope
    evidence: Condition | None
    exclude: Condition | None
    notify: tuple[str, ...]
    realert: timedelta | None
    version: str  # changes whenever the rule or a dictionary it uses changes
    examples: tuple[Example, ...] = ()
    implies: tuple[Implied, ...] = ()
    pos: Pos | None = None
    order: int = 0  # position in the rule set
    notify_pos: Pos | None = None  # where `notify:` is written, for target errors


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[Rule, ...]
    actors: Mapping[str, Actor]
    lexicon: Lexicon
    version: str
    # the languages of rules/languages/; None: no such folder, every term applies everywhere
    languages: Languages | None = None
    warnings: tuple[Problem, ...] = ()
    # actor id -> rules that name it (a group's rules are listed under its members too)
    by_actor: Mapping[str, tuple[Rule, ...]] = field(default_factory=dict)
    by_id: Mapping[str, Rule] = field(default_factory=dict)
    watches: tuple[Watch, ...] = ()  # spike rules (kind: spike)

    def rule(self, rule_id: str) -> Rule:
        """The rule called `rule_id`. Raises KeyError."""
        return self.by_id[rule_id]

    def get(self, rule_id: str) -> Rule | None:
        """The rule called `rule_id`, or None (it was removed or never existed)."""
        return self.by_id.get(rule_id)
