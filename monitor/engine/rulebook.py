"""The live rule set: loaded once at start, reloaded when its files change.

A rule set counts as valid only when every file validates, every inline example behaves
as its rule says, and the caller's own check passes (the daemon checks that every `notify:`
names a configured target). An invalid reload is rejected and the last good rule set stays
live.
"""

import logging
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

from monitor.engine.loader import load_ruleset
from monitor.engine.match import verify_examples
from monitor.engine.ruleset import RuleSet
from monitor.errors import Problem, RuleError

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]
Check = Callable[[RuleSet], list[Problem]]
# How the inline examples are run: here by default; the daemon runs them in another process
# (monitor.reading), so that its own never opens the dictionaries the readers match with.
Examples = Callable[[RuleSet, date], list[Problem]]


def load_rules(
    rules_dir: Path,
    seeds_dir: Path,
    today: date,
    check: Check = lambda _: [],
    examples: Examples = verify_examples,
) -> RuleSet:
    """Load, compile and check a rule set, examples and `check` included.

    Raises:
        RuleError: every problem in the files, then every failing example and check.
    """
    ruleset = load_ruleset(rules_dir, seeds_dir)
    failures = [*examples(ruleset, today), *check(ruleset)]
    if failures:
        raise RuleError(failures)
    return ruleset


class RuleBook:
    """Holds the current `RuleSet`; `reload_if_changed` swaps it when files change."""

    def __init__(
        self,
        rules_dir: Path,
        seeds_dir: Path,
        today: Callable[[], date],
        check: Check = lambda _: [],
        examples: Examples = verify_examples,
    ) -> None:
        self.rules_dir, self.seeds_dir, self._today = rules_dir, seeds_dir, today
        self._check, self._examples = check, examples
        self._lock = threading.Lock()
        self._fingerprint = self._scan()
        self.current = load_rules(rules_dir, seeds_dir, today(), check, examples)

    def reload_if_changed(self) -> bool:
        """Reload when any file changed. True when a new rule set went live.

        Raises:
            RuleError: the changed files are invalid; the previous rule set stays live.
        """
        with self._lock:
            fingerprint = self._scan()
            if fingerprint == self._fingerprint:
                return False
            self._fingerprint = fingerprint  # report a bad edit once, not on every check
            fresh = load_rules(
                self.rules_dir, self.seeds_dir, self._today(), self._check, self._examples
            )
            changed = fresh.version != self.current.version
            self.current = fresh
            return changed

    def _scan(self) -> Fingerprint:
        files = [*self.rules_dir.rglob("*.y*ml"), *self.seeds_dir.rglob("*.y*ml")]
        stats = []
        for path in sorted(files):
            try:
                stat = path.stat()
            except OSError:
                continue
            stats.append((str(path), stat.st_mtime_ns, stat.st_size))
        return tuple(stats)
