"""Retention on SQLite and PostgreSQL: what ages out goes, what an analyst or a pending alert
still needs stays, and `monitor db prune --dry-run` tells the same numbers first."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from monitor import store
from monitor.alerts.stories import StoryFiling
from monitor.cli import EXIT_OK, main
from monitor.model import Evidence, Item, Match, Notice, PollResult
from monitor.settings import FeedConfig
from monitor.store import Database
from tests.conftest import RULES_CONFIG

OLD = datetime(2024, 1, 10, 12, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CUTOFFS = store.Cutoffs(
    items=NOW - timedelta(days=90),
    matches=NOW - timedelta(days=730),
    deliveries=NOW - timedelta(days=365),
    polls=NOW - timedelta(days=30),
)


def item(key: str, title: str) -> Item:
    return Item(
        key=key,
        guid=key,
        link=f"https://news.example.org/{key}",
        title=title,
        summary="",
        author=None,
        published_at=OLD,
        date_source="feed",
        language="en",
    )


def match(key: str, targets: tuple[str, ...] = ("ops",)) -> Match:
    evidence = (Evidence("actor", "ALP", "Alphaland", 0, 9, "name"),)
    return Match("alp-bet-arms", "v1", "high", 0.9, key, "s", evidence, targets, "Arms")


def poll(
    db: Database, feed: str, at: datetime, items: tuple[Item, ...], matches: tuple[Match, ...]
) -> None:
    store.sync_feeds(db, [FeedConfig(name=feed, url=f"http://{feed}.example/x", interval="1h")], at)
    [state] = store.claim_due_feeds(db, "me", at, timedelta(minutes=5), 1, [feed])
    result = PollResult(
        feed_id=state.id,
        started_at=at,
        finished_at=at + timedelta(seconds=1),
        outcome="ok",
        next_poll_at=at + timedelta(hours=1),
        items=items,
        matches=matches,
    )
    store.save_poll(db, result, "me", StoryFiling())


def count(db: Database, table: str) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())


@pytest.fixture
def history(db: Database) -> Database:
    """Three years of a feed: old plain items, old matches (one marked by an analyst, one
    still pending delivery, one sent), a recent plain item, an old notice."""
    old_items = (
        item("plain", "Weather in Betopolis"),
        item("sent", "Alphaland ships shells to Betania"),
        item("marked", "Alphaland sells rockets to Betania"),
        item("pending", "Alphaland sends missiles to Betania"),
    )
    poll(db, "wire", OLD, old_items, (match("sent"), match("marked"), match("pending")))
    poll(db, "wire", NOW - timedelta(days=1), (item("fresh", "Markets in Alphaville"),), ())
    store.enqueue_notice(db, "n-old", "ops", Notice(0, "", "feed-down", "low", "t", ()), OLD)
    deliveries = {d.title: d for d in store.list_deliveries(db, 10)}
    for title in ("Alphaland ships shells to Betania", "Alphaland sells rockets to Betania", "t"):
        store.record_attempt(db, deliveries[title].id, OLD, ok=True)
    marked = next(m for m in store.recent_matches(db, 10) if m.title.endswith("rockets to Betania"))
    with db.engine.begin() as conn:
        match_id = conn.execute(
            text("SELECT m.id FROM match m JOIN item i ON i.id = m.item_id WHERE i.key = 'marked'")
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO feedback (match_id, rule_id, rule_version, relevant, marked_at) "
                "VALUES (:m, 'alp-bet-arms', 'v1', :r, :at)"
            ),
            {"m": match_id, "r": True, "at": OLD},
        )
    assert marked.rule == "alp-bet-arms"
    return db


def test_a_dry_run_counts_what_a_prune_then_deletes(history: Database) -> None:
    before = {t: count(history, t) for t in ("item", "match", "delivery", "poll")}

    counted = store.prune(history, CUTOFFS, dry_run=True)
    after_dry_run = {t: count(history, t) for t in ("item", "match", "delivery", "poll")}
    pruned = store.prune(history, CUTOFFS)

    assert after_dry_run == before  # a dry run deletes nothing
    assert (counted.items, counted.matches, counted.deliveries, counted.polls) == (1, 1, 3, 1)
    assert (pruned.items, pruned.matches, pruned.deliveries, pruned.polls) == (1, 1, 3, 1)
    assert pruned.stories == 1  # the sent match's story, nothing refers to it any more


def test_what_an_analyst_marked_or_an_alert_still_needs_stays(history: Database) -> None:
    store.prune(history, CUTOFFS)

    kept = {m.title for m in store.recent_matches(history, 10)}
    items = {i.title for i in store.recent_items(history, 10)}
    assert kept == {"Alphaland sells rockets to Betania", "Alphaland sends missiles to Betania"}
    assert items == kept | {"Markets in Alphaville"}  # matched items stay with their match
    assert [d.status for d in store.list_deliveries(history, 10)] == ["pending"]


def test_each_feed_still_counts_its_items_after_a_prune(history: Database) -> None:
    poll(history, "other", OLD, (item("o1", "Rain in Betopolis"),), ())
    assert {f.name: f.items for f in store.list_feeds(history, include_inactive=True)} == {
        "wire": 5,
        "other": 1,
    }

    store.prune(history, CUTOFFS, dry_run=True)
    assert {f.name: f.items for f in store.list_feeds(history, include_inactive=True)} == {
        "wire": 5,
        "other": 1,
    }
    store.prune(history, CUTOFFS)

    # the plain old item and the sent match's item went from wire; other's old item went too
    assert {f.name: f.items for f in store.list_feeds(history, include_inactive=True)} == {
        "wire": 3,
        "other": 0,
    }
    with history.engine.connect() as conn:
        stored: dict[str, int] = dict(
            conn.execute(
                text(
                    "SELECT f.name, count(i.id) FROM feed f LEFT JOIN item i ON i.feed_id = f.id "
                    "GROUP BY f.name"
                )
            ).all()
        )
    assert stored == {"wire": 3, "other": 0}


def test_a_second_prune_finds_nothing(history: Database) -> None:
    store.prune(history, CUTOFFS)

    assert store.prune(history, CUTOFFS).total == 0


def test_monitor_db_prune_reports_what_it_did(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    db = Database(url)
    db.upgrade()
    poll(db, "wire", OLD, (item("plain", "Weather in Betopolis"),), ())
    db.dispose()
    path = tmp_path / "monitor.yaml"
    path.write_text(f'database_url: "{url}"\n{RULES_CONFIG}', encoding="utf-8")

    dry = main(["--config", str(path), "db", "prune", "--dry-run"])
    dry_out = capsys.readouterr().out
    real = main(["--config", str(path), "db", "prune"])
    real_out = capsys.readouterr().out

    assert dry == real == EXIT_OK
    assert dry_out.startswith("would delete: 1 items, 0 matches, 0 deliveries")
    assert real_out.startswith("deleted: 1 items, 0 matches, 0 deliveries")
