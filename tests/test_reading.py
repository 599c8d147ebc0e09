"""Matching in the reader processes: a reader matches only with the rule set the daemon has
live; when the files on disk say otherwise, the daemon matches itself, so an edit not yet
taken up (or rejected) never changes what is matched."""

import asyncio
import shutil
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlmodel import select

from monitor import store
from monitor.alerts.stories import StoryFiling
from monitor.alerts.storyprint import story_words
from monitor.app import open_app
from monitor.engine.rulebook import RuleBook
from monitor.errors import RuleError
from monitor.ingest.workers import ReadPool
from monitor.model import Match, PollResult
from monitor.pipeline import poll_feed
from monitor.reading import RulesRef, examples_in, read_and_match
from monitor.settings import FeedConfig, Settings
from monitor.store import Database
from monitor.store.tables import StoryRow
from tests.conftest import RULES_DIR
from tests.feedserver import FeedServer

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DOCUMENT = (
    b"<rss version='2.0'><channel><title>t</title><item><guid>r1</guid>"
    b"<title>Alphaland ships artillery shells to Betania</title></item></channel></rss>"
)


def test_a_reader_matches_with_the_live_rule_set(tmp_path: Path) -> None:
    book = RuleBook(RULES_DIR, RULES_DIR / "seeds", lambda: NOW.date())
    ref = RulesRef(RULES_DIR, RULES_DIR / "seeds", book.current.version)

    _, items, matches = read_and_match(
        DOCUMENT, {}, url="http://x/", language=None, fetched_at=NOW, rules=ref
    )

    assert matches is not None and [m.rule for m in matches] == ["alp-bet-arms"]
    assert matches[0].item_key == items[0].key
    # the story fingerprint comes made, so the daemon's process files the story without it
    assert matches[0].story_words == story_words(items[0].title, "", None)
    assert "artil" in matches[0].story_words


def _matched_poll(
    db: Database,
    feed: str,
    guid: str,
    words: tuple[str, ...],
    at: datetime,
    filing: StoryFiling | None = None,
) -> None:
    """Store one poll of `feed` at `at`: one item, matched, with the fingerprint `words`,
    filed by `filing` (by default a new one)."""
    store.sync_feeds(
        db, [FeedConfig(name=feed, url=f"http://x/{feed}.xml", interval=timedelta(hours=1))], at
    )
    [state] = store.claim_due_feeds(db, "me", at, timedelta(minutes=5), 1)
    document = DOCUMENT.replace(b"r1", guid.encode())
    [item] = read_and_match(
        document, {}, url="http://x/", language=None, fetched_at=at, rules=None
    )[1]
    match = Match("r", "v", "high", 1.0, item.key, item.title, (), ("t",), "R", words)
    result = PollResult(
        feed_id=state.id, started_at=at, finished_at=at, outcome="ok",
        next_poll_at=at + timedelta(hours=1), items=(item,), matches=(match,),
    )  # fmt: skip
    store.save_poll(db, result, "me", filing or StoryFiling())


def test_stories_are_filed_with_the_fingerprints_readers_made(db: Database) -> None:
    # the store takes a given fingerprint as it is (here: one that names no real words)
    _matched_poll(db, "f", "r1", ("given", "|"), NOW)

    with db.reading() as session:
        assert [row.words for row in session.exec(select(StoryRow))] == [["given", "|"]]


def test_a_new_filing_loads_only_the_stories_of_the_window(db: Database) -> None:
    # Given a story last seen a month ago and one seen an hour ago
    _matched_poll(db, "old", "o1", ("old", "|"), NOW - timedelta(days=30))
    _matched_poll(db, "new", "n1", ("new", "|"), NOW - timedelta(hours=1))
    with db.reading() as session:
        ids = {row.words[0]: row.id or 0 for row in session.exec(select(StoryRow))}

    # When a daemon that just started (a new filing) stores its first matched poll
    filing = StoryFiling()
    _matched_poll(db, "x", "x1", ("x", "|"), NOW, filing)

    # Then it holds the recent story and never read the old one (history costs no memory)
    assert filing.knows(ids["new"]) and not filing.knows(ids["old"])


def test_a_reader_whose_files_are_another_version_leaves_matching_to_the_daemon(
    tmp_path: Path,
) -> None:
    ref = RulesRef(RULES_DIR, RULES_DIR / "seeds", "not-the-files-version")

    _, items, matches = read_and_match(
        DOCUMENT, {}, url="http://x/", language=None, fetched_at=NOW, rules=ref
    )

    assert matches is None and len(items) == 1


def test_an_edit_the_daemon_has_not_taken_up_changes_nothing_matched(
    tmp_path: Path, feed_server: FeedServer, db: Database
) -> None:
    # Given a daemon's live rules, and the files edited since (artillery no longer a weapon)
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    book = RuleBook(rules, rules / "seeds", lambda: NOW.date())
    weapons = rules / "vocab" / "weapons.yaml"
    weapons.write_text(weapons.read_text().replace("artillery, ", "").replace('"shell*", ', ""))
    name = f"{uuid.uuid4().hex[:8]}.xml"
    feed_server.set_feed(name, DOCUMENT)
    feed = FeedConfig(name="f", url=feed_server.url(f"/feeds/{name}"), interval=timedelta(hours=1))
    settings = Settings(feeds=(feed,))

    async def poll() -> int:
        async with open_app(settings, db=db, clock=lambda: NOW, rules=book) as app:
            store.sync_feeds(db, settings.feeds, NOW)
            [state] = store.claim_due_feeds(db, app.owner, NOW, timedelta(minutes=5), 1)
            return (await poll_feed(app, feed, state)).matches_new

    # When a feed is polled before the daemon reloads
    new = asyncio.run(poll())

    # Then the match is made by the live rules, as if nothing were edited
    assert new == 1
    assert [m.rule for m in store.recent_matches(db, 5)] == ["alp-bet-arms"]


def test_an_edit_whose_examples_fail_leaves_the_reader_matching_with_the_live_rules(
    tmp_path: Path,
) -> None:
    # Given a daemon whose reader checks the examples (one reader: it also polls)
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    with ReadPool(1) as readers:
        book = RuleBook(
            rules,
            rules / "seeds",
            lambda: NOW.date(),
            examples=examples_in(readers, rules, rules / "seeds"),
        )
        live = RulesRef(rules, rules / "seeds", book.current.version)
        read = partial(
            read_and_match, DOCUMENT, {}, url="http://x/", language=None, fetched_at=NOW, rules=live
        )
        assert readers.call(read, (), 60)[2] is not None

        # When an edit breaks an example, so the reader loads the edit to check it
        weapons = rules / "vocab" / "weapons.yaml"
        weapons.write_text(weapons.read_text().replace("artillery, ", "").replace('"shell*", ', ""))
        with pytest.raises(RuleError, match="should match"):
            book.reload_if_changed()

        # Then the live rules stay, in the daemon and in the reader, which still matches
        assert book.current.version == live.version
        matches = readers.call(read, (), 60)[2]
    assert matches is not None and [m.rule for m in matches] == ["alp-bet-arms"]


_IN_A_READER = """
import sys
from monitor.reading import start_readers

with start_readers(1, None) as readers:
    kept, languages = readers.call(eval, (sys.argv[1],), 120)
print(kept, languages)
"""
_ASKED = (
    "(__import__('monitor.engine.langmodel', fromlist=['_kept'])._kept is not None,"
    " __import__('monitor.engine.langmodel', fromlist=['_kept'])"
    ".classify('Der Minister traf sich gestern mit seinem Amtskollegen', ('de', 'fr', 'pl')))"
)


def test_readers_start_with_the_language_model_their_server_loaded() -> None:
    # a process of its own: its first readers start the forkserver (in this one, whichever
    # test came first may have started it without the preload)
    result = subprocess.run(
        [sys.executable, "-c", _IN_A_READER, _ASKED],
        capture_output=True,
        text=True,
        timeout=180,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "('de',)"]
