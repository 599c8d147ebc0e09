"""Which alert targets want a match or a spike. Pure: rules and targets in, names out."""

from collections.abc import Sequence
from typing import Protocol

from monitor.engine.condition import close_match
from monitor.engine.ruleset import Rule, RuleSet
from monitor.engine.watches import Watch
from monitor.errors import Problem
from monitor.model import LEVELS, Level
from monitor.settings import TargetConfig

LOG_TARGET = "log"  # used when no target is configured, so a first run shows its alerts


class Routable(Protocol):
    """What routing reads of a rule: a match rule or a spike rule."""

    @property
    def id(self) -> str: ...
    @property
    def level(self) -> Level: ...
    @property
    def tags(self) -> tuple[str, ...]: ...
    @property
    def notify(self) -> tuple[str, ...]: ...


def route(rule: Routable, targets: Sequence[TargetConfig]) -> tuple[str, ...]:
    """The targets an alert of `rule` goes to: those the rule names (all when it names none),
    kept if their filters (level, rules, tags) accept the rule."""
    if not targets:
        return (LOG_TARGET,)
    wanted = set(rule.notify) if rule.notify else {t.name for t in targets}
    return tuple(
        t.name
        for t in targets
        if t.name in wanted
        and LEVELS.index(rule.level) >= LEVELS.index(t.min_level)
        and (not t.rules or rule.id in t.rules)
        and (not t.tags or set(t.tags) & set(rule.tags))
    )


def unknown_targets(ruleset: RuleSet, targets: Sequence[TargetConfig]) -> list[Problem]:
    """A problem for every `notify:` name that is not a configured target."""
    names = {t.name for t in targets} | {LOG_TARGET}
    rules: list[Rule | Watch] = [*ruleset.rules, *ruleset.watches]
    return [
        Problem(
            rule.notify_pos or rule.pos,
            f"notify: rule '{rule.id}' names unknown target '{name}'"
            f"{close_match(name, names)} (targets: {', '.join(sorted(names))})",
        )
        for rule in rules
        for name in rule.notify
        if name not in names
    ]
