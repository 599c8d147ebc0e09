"""What every command needs: exit codes, the database, the rules, problem printing."""

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from monitor import store
from monitor.errors import Problem, RuleError
from monitor.settings import Settings

if TYPE_CHECKING:
    from monitor.engine.rulebook import RuleBook
    from monitor.ingest.workers import ReadPool

EXIT_OK = 0
EXIT_FAILURE = 1  # something ran and failed (a feed, health, a rule example)
EXIT_INVALID = 2  # usage, configuration or rule errors
EXIT_UNAVAILABLE = 3  # the database cannot be reached


class CommandError(Exception):
    """Stops a command with an exit code; its message (if any) was already printed."""

    def __init__(self, code: int) -> None:
        self.code = code
        super().__init__(code)


def open_db(settings: Settings) -> store.Database:
    db = store.Database(settings.database_url)
    db.upgrade()
    return db


def open_rules(settings: Settings, readers: "ReadPool | None" = None) -> "RuleBook | None":
    """The rule book, or None (with a warning) when there is no rules folder. With
    `readers`, the inline examples run in them (see `monitor.reading.examples_in`).

    Raises:
        CommandError: the rules are invalid (every problem was printed).
    """
    if not settings.rules_dir.is_dir():
        print(
            f"warning: no rules folder at {settings.rules_dir}: items are stored but not matched",
            file=sys.stderr,
        )
        return None
    # The engine (~0.3 s to import) loads here, never for the listing commands.
    from monitor.alerts.route import unknown_targets
    from monitor.engine.lemma import use_dictionary_files
    from monitor.engine.match import verify_examples
    from monitor.engine.rulebook import RuleBook
    from monitor.reading import examples_in

    use_dictionary_files(settings.cache_dir)  # should this process match, as its readers do
    try:
        return RuleBook(
            settings.rules_dir,
            settings.seeds_dir,
            lambda: datetime.now(UTC).date(),
            check=lambda ruleset: unknown_targets(ruleset, settings.targets),
            examples=(
                verify_examples
                if readers is None
                else examples_in(readers, settings.rules_dir, settings.seeds_dir)
            ),
        )
    except RuleError as exc:
        print_problems(exc.problems)
        raise CommandError(EXIT_INVALID) from exc


def print_problems(problems: Sequence[Problem], what: str = "in the rules") -> None:
    for problem in problems:
        print(problem, file=sys.stderr)
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    files = len({p.pos.path for p in problems if p.pos})
    parts = [f"{errors} error(s)"] + ([f"{warnings} warning(s)"] if warnings else [])
    print(f"{', '.join(parts)} {what}" + (f" ({files} file(s))" if files else ""), file=sys.stderr)
