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
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from datetime import date, datetime
from multiprocessing import get_context
from pathlib import Path

from monitor.alerts.storyprint import story_words
from monitor.engine.loader import load_ruleset
from monitor.engine.match import match_items, verify_examples
from monitor.engine.rulebook import Examples
from monitor.engine.ruleset import RuleSet
from monitor.errors import Problem, RuleError
from monitor.ingest.document import read_document
from monitor.model import Item, Match, ParsedFeed

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RulesRef:
    """Which rule set to match with: its folders and the version the daemon has live."""

    rules_dir: Path
    seeds_dir: Path
    version: str


# This process's rule sets, by folder. A reader is a process of its own, so this is its
# state alone (the daemon's process never fills it).
_loaded: dict[tuple[Path, Path], RuleSet] = {}


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
    folders = (ref.rules_dir, ref.seeds_dir)
    current = _loaded.get(folders)
    if current is None or current.version != ref.version:
        try:
            current = load_ruleset(ref.rules_dir, ref.seeds_dir)
        except RuleError:
            return None  # the files are mid-edit or invalid: the daemon keeps its own
        _loaded[folders] = current
    return current if current.version == ref.version else None


def examples_apart(rules_dir: Path, seeds_dir: Path) -> Examples:
    """A `RuleBook` examples check that runs the inline examples in a process of its own
    (from the forkserver the readers come from), so that the daemon's process never opens
    the lemma dictionaries and the language model (~130 MB) only readers need. When that
    process cannot tell (the files changed in between, or it died), the check runs here."""

    def check(ruleset: RuleSet, today: date) -> list[Problem]:
        try:
            with ProcessPoolExecutor(1, mp_context=get_context("forkserver")) as apart:
                found = apart.submit(
                    _examples_of, rules_dir, seeds_dir, ruleset.version, today
                ).result()
        except (BrokenProcessPool, OSError) as exc:
            log.warning("inline examples checked in the daemon's process", extra={"error": exc})
            found = None
        return verify_examples(ruleset, today) if found is None else found

    return check


def _examples_of(
    rules_dir: Path, seeds_dir: Path, version: str, today: date
) -> list[Problem] | None:
    """The examples' problems of the rule set in the files, or None when it is not `version`."""
    try:
        ruleset = load_ruleset(rules_dir, seeds_dir)
    except RuleError:
        return None
    return verify_examples(ruleset, today) if ruleset.version == version else None
