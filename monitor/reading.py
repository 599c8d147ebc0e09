"""What a reader process does with a feed document: parse it, normalize it and match its
items against the rules, so the daemon's own process is left with fetching and storing.

A reader loads the rules from their files itself (a rule set does not pickle: it holds
locks and caches) and keeps them for its lifetime, one rule set per folder. It matches
only with exactly the rule set the daemon has live, told by its version: when the files on
disk are not that set (an edit the daemon has not taken up yet, or one it rejected), the
reader returns no matches and the daemon matches in its own process. Routing to targets
stays with the daemon, which knows them.
"""

import logging
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from monitor.alerts.storyprint import story_words
from monitor.engine.lemma import use_dictionary_files
from monitor.engine.loader import load_ruleset
from monitor.engine.match import match_items, verify_examples
from monitor.engine.rulebook import Examples
from monitor.engine.ruleset import RuleSet
from monitor.errors import ParseError, PollTimeout, Problem, RuleError
from monitor.ingest.workers import ReadPool
from monitor.model import Item, Match, ParsedFeed

log = logging.getLogger(__name__)

# the examples of a large rule set on a loaded machine: seconds; a reader that takes this
# long is stuck
_EXAMPLES_TIMEOUT = 300.0


def start_readers(processes: int, dictionaries: Path | None) -> ReadPool:
    """The readers a daemon polls with. They are forked from a server that has loaded what
    each of them uses (`monitor.readers`), and share it; their lemma dictionaries are files in
    `dictionaries` (see `lemma.use_dictionary_files`), which they share too."""
    return ReadPool(
        processes,
        preload=("monitor.readers",),
        initializer=use_dictionary_files,
        initargs=(dictionaries,),
    )


@dataclass(frozen=True, slots=True)
class RulesRef:
    """Which rule set to match with: its folders and the version the daemon has live."""

    rules_dir: Path
    seeds_dir: Path
    version: str


# This process's rule sets, by folder and version. A reader is a process of its own, so this
# is its state alone (the daemon's process never fills it). Two versions are kept: the live
# one goes on matching while an edit's examples are checked, and stays if they fail.
_loaded: dict[tuple[Path, Path], dict[str, RuleSet]] = {}
_VERSIONS_KEPT = 2


def read_and_match(
    body: bytes,
    headers: dict[str, str],
    *,
    url: str,
    language: str | None,
    fetched_at: datetime,
    rules: RulesRef | None,
) -> tuple[ParsedFeed, tuple[Item, ...], tuple[Match, ...] | None]:
    """The document's feed (without its raw entries: the items say it all, and they would
    double what is sent back), items and matches (None: not matched here, see the module).

    Raises:
        ParseError: the body is not a usable feed.
    """
    # imported here: the daemon's process, which only hands documents over, never loads the
    # parsers (the readers have them from their forkserver, `monitor.readers`)
    from monitor.ingest.document import read_document

    parsed, items = read_document(body, headers, url=url, language=language, fetched_at=fetched_at)
    parsed = replace(parsed, entries=())
    if rules is None:
        return parsed, items, ()
    ruleset = _ruleset(rules)
    if ruleset is None:
        return parsed, items, None
    found = match_items(ruleset, items)
    # the story fingerprints of matched items, made here rather than in the daemon's process
    by_key = {item.key: item for item in items}
    prints = {
        key: story_words(by_key[key].title, by_key[key].summary, by_key[key].language)
        for key in {m.item_key for m in found}
    }
    return parsed, items, tuple(replace(m, story_words=prints[m.item_key]) for m in found)


def _ruleset(ref: RulesRef) -> RuleSet | None:
    versions = _loaded.setdefault((ref.rules_dir, ref.seeds_dir), {})
    current = versions.pop(ref.version, None)  # put back last: the most recently used
    if current is None:
        try:
            current = load_ruleset(ref.rules_dir, ref.seeds_dir)
        except RuleError:
            return None  # the files are mid-edit or invalid: the daemon keeps its own
    versions[current.version] = current
    while len(versions) > _VERSIONS_KEPT:
        del versions[next(iter(versions))]
    return current if current.version == ref.version else None


def examples_in(readers: ReadPool, rules_dir: Path, seeds_dir: Path) -> Examples:
    """A `RuleBook` examples check run by a reader, so that the daemon's process never opens
    the lemma dictionaries and the language model that matching needs (and no process is
    started for it: that reader keeps the rules, the dictionaries and the lemma automata the
    examples opened for its polls). When the reader cannot tell (the files changed in
    between, or it died), the check runs here; once the readers are stopped (the daemon is
    stopping), the rule set is refused unchecked instead."""

    def check(ruleset: RuleSet, today: date) -> list[Problem]:
        try:
            found = readers.call(
                _examples_of, (rules_dir, seeds_dir, ruleset.version, today), _EXAMPLES_TIMEOUT
            )
        except (ParseError, PollTimeout) as exc:
            if readers.closed:
                return [Problem(None, "inline examples not checked: the readers were stopped")]
            log.warning("inline examples checked in the daemon's process", extra={"error": exc})
            found = None
        return verify_examples(ruleset, today) if found is None else found

    return check


def _examples_of(
    rules_dir: Path, seeds_dir: Path, version: str, today: date
) -> list[Problem] | None:
    """The examples' problems of the rule set in the files, or None when it is not `version`
    (the rule set is kept for this reader's polls)."""
    ruleset = _ruleset(RulesRef(rules_dir, seeds_dir, version))
    return None if ruleset is None else verify_examples(ruleset, today)
