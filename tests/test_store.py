"""Storage on SQLite and PostgreSQL: migrations, feed sync, leases, idempotent inserts."""

import subprocess
import sys
import threading
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import MetaData, Table, event, inspect, text
from sqlmodel import SQLModel, col, select

from monitor import store
from monitor.alerts.stories import StoryFiling
from monitor.model import Item, PollResult, Validators
from monitor.settings import FeedConfig
from monitor.store import Database
from monitor.store.database import HEAD, _alembic_config
from monitor.store.tables import ItemRow
from tests.conftest import PG_ADMIN

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def feeds(*names: str, interval: int = 60) -> list[FeedConfig]:
    return [
        FeedConfig(name=n, url=f"http://127.0.0.1:9/{n}.xml", interval=timedelta(seconds=interval))
        for n in names
    ]


def item(key: str, title: str = "t") -> Item:
    return Item(
        key=key,
        guid=key,
        link=None,
        title=title,
        summary="s",
        author=None,
        published_at=NOW,
        date_source="feed",
        language="en",
    )


def ok_result(feed_id: int, items: tuple[Item, ...]) -> PollResult:
    return PollResult(
        feed_id=feed_id,
        started_at=NOW,
        finished_at=NOW + timedelta(seconds=1),
        outcome="ok",
        next_poll_at=NOW + timedelta(minutes=15),
        http_status=200,
        validators=Validators('"abc"', "Sun, 29 Nov 2026 11:00:00 GMT"),
        body_hash="h" * 64,
        items=items,
    )


def test_migrations_create_exactly_the_model_schema(db: Database) -> None:
    tables = set(inspect(db.engine).get_table_names()) - {"alembic_version"}

    assert tables == set(SQLModel.metadata.tables)
    assert db.is_current()
    db.upgrade()  # idempotent


def test_the_newest_revision_is_known_without_alembic() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config())

    assert script.get_current_head() == HEAD
    for revision in script.walk_revisions():  # the file-name convention HEAD relies on
        assert Path(revision.path).name.startswith(f"{revision.revision}_")


def _at_revision(tmp_path: Path, revision: str) -> Database:
    from alembic import command

    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    config = _alembic_config()
    with db.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return db


def test_an_older_schema_is_brought_to_the_newest(tmp_path: Path) -> None:
    db = _at_revision(tmp_path, "0004")
    assert not db.is_current()

    db.upgrade()

    assert db.is_current()
    assert "kind" in {c["name"] for c in inspect(db.engine).get_columns("delivery")}  # from 0005


def test_feeds_stored_before_the_item_count_are_counted_once_upgraded(tmp_path: Path) -> None:
    db = _at_revision(tmp_path, "0005")
    with db.engine.begin() as conn:  # through SQL: the models know a column 0005 lacks
        feed = Table("feed", MetaData(), autoload_with=conn)
        for name in ("a", "b"):
            conn.execute(
                feed.insert().values(
                    name=name,
                    url=f"http://{name}.example/",
                    host=f"{name}.example",
                    interval_s=60,
                    tags=[],
                    active=True,
                    status="ok",
                    consecutive_failures=0,
                    next_poll_at=NOW,
                    created_at=NOW,
                )
            )
        item_table = Table("item", MetaData(), autoload_with=conn)
        a = conn.execute(text("SELECT id FROM feed WHERE name = 'a'")).scalar_one()
        for key in ("k1", "k2"):
            conn.execute(
                item_table.insert().values(
                    feed_id=a,
                    key=key,
                    title="t",
                    summary="",
                    published_at=NOW,
                    date_source="feed",
                    tags=[],
                    fetched_at=NOW,
                )
            )

    db.upgrade()

    assert {v.name: v.items for v in store.list_feeds(db)} == {"a": 2, "b": 0}


def test_sync_adds_updates_and_deactivates_feeds(db: Database) -> None:
    store.sync_feeds(db, feeds("a", "b"), NOW)

    store.sync_feeds(db, feeds("b", "c", interval=120), NOW)

    views = {v.name: v for v in store.list_feeds(db, include_inactive=True)}
    assert set(views) == {"a", "b", "c"}
    assert not views["a"].active and views["b"].active and views["c"].active
    assert views["b"].interval == timedelta(seconds=120)
    assert [v.name for v in store.list_feeds(db)] == ["b", "c"]


def test_a_due_feed_is_leased_to_one_owner_only(db: Database) -> None:
    store.sync_feeds(db, feeds("a", "b", "c"), NOW)

    first = store.claim_due_feeds(db, "one", NOW, LEASE, 2)
    second = store.claim_due_feeds(db, "two", NOW, LEASE, 10)

    assert len(first) == 2 and len(second) == 1
    assert {s.name for s in first}.isdisjoint(s.name for s in second)
    assert store.claim_due_feeds(db, "three", NOW, LEASE, 10) == []


def test_an_expired_lease_can_be_taken_over(db: Database) -> None:
    store.sync_feeds(db, feeds("a"), NOW)
    store.claim_due_feeds(db, "crashed", NOW, LEASE, 1)

    later = NOW + LEASE + timedelta(seconds=1)

    assert [s.name for s in store.claim_due_feeds(db, "new", later, LEASE, 1)] == ["a"]


def test_released_leases_are_claimable_again(db: Database) -> None:
    store.sync_feeds(db, feeds("a", "b"), NOW)
    store.claim_due_feeds(db, "me", NOW, LEASE, 2)

    assert store.release_leases(db, "me") == 2
    assert len(store.claim_due_feeds(db, "other", NOW, LEASE, 5)) == 2


def test_feeds_not_yet_due_are_not_claimed_unless_named(db: Database) -> None:
    store.sync_feeds(db, feeds("a"), NOW + timedelta(hours=1))

    assert store.claim_due_feeds(db, "me", NOW, LEASE, 5) == []
    assert [s.name for s in store.claim_due_feeds(db, "me", NOW, LEASE, 5, ["a"])] == ["a"]


def test_concurrent_claimers_never_share_a_feed(db: Database) -> None:
    store.sync_feeds(db, feeds(*(f"f{i}" for i in range(60))), NOW)
    claimed: dict[str, list[str]] = {}

    def claim(owner: str) -> None:
        names: list[str] = []
        while batch := store.claim_due_feeds(db, owner, NOW, LEASE, 3):
            names += [s.name for s in batch]
        claimed[owner] = names

    threads = [threading.Thread(target=claim, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    everything = [n for names in claimed.values() for n in names]
    assert sorted(everything) == sorted(f"f{i}" for i in range(60))  # each exactly once


def test_a_feed_polled_by_another_daemon_between_read_and_lease_is_not_leased_again(
    db: Database,
) -> None:
    store.sync_feeds(db, feeds("a"), NOW)
    other = Database(db.url)  # the other daemon: its own engine, connections and lock
    polled: list[list[str]] = []

    def poll_elsewhere(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        # after this claimer read its candidates, before it leases them: the other daemon
        # leases the feed, polls it and releases it, due again only in 15 minutes
        if statement.lstrip().upper().startswith("UPDATE FEED") and not polled:
            states = store.claim_due_feeds(other, "other", NOW, LEASE, 1)
            polled.append([s.name for s in states])
            store.save_poll(other, ok_result(states[0].id, (item("k1"),)), "other", StoryFiling())

    event.listen(db.engine, "before_cursor_execute", poll_elsewhere)
    try:
        late = store.claim_due_feeds(db, "late", NOW, LEASE, 1)
    finally:
        event.remove(db.engine, "before_cursor_execute", poll_elsewhere)
        other.dispose()

    assert polled == [["a"]]
    assert late == []  # not polled a second time


def test_saving_a_poll_twice_stores_each_item_once(db: Database) -> None:
    store.sync_feeds(db, feeds("a"), NOW)
    state = store.claim_due_feeds(db, "me", NOW, LEASE, 1)[0]

    first = store.save_poll(db, ok_result(state.id, (item("k1"), item("k2"))), "me", StoryFiling())
    second = store.save_poll(
        db, ok_result(state.id, (item("k2"), item("k3"), item("k3"))), "me", StoryFiling()
    )

    assert sorted(first) == ["k1", "k2"] and second == ["k3"]
    assert len(store.recent_items(db, 10)) == 3


def test_every_field_of_an_item_is_stored_as_given(db: Database) -> None:
    # values an array's text format would have to quote or would read as NULL, and absent ones
    store.sync_feeds(db, feeds("a"), NOW)
    state = store.claim_due_feeds(db, "me", NOW, LEASE, 1)[0]
    odd = Item(
        key="k1",
        guid=None,
        link="https://example.com/a?b=1",
        title="NULL",
        summary='{"braces", and \\ backslashes}\nline two, «Пхеньян» 평양',
        author='O"Brien, \\N',
        published_at=NOW - timedelta(days=1),
        date_source="fetched",
        language=None,
        tags=("", "NULL", 'a "quoted", tag', "타그"),
    )
    plain = replace(item("k2"), tags=())

    store.save_poll(db, ok_result(state.id, (odd, plain)), "me", StoryFiling())

    with db.reading() as session:
        rows = session.exec(select(ItemRow).order_by(col(ItemRow.key))).all()
        stored = [
            (r.key, r.guid, r.link, r.title, r.summary, r.author, r.date_source, r.language, r.tags)
            for r in rows
        ]
        published = [r.published_at.replace(tzinfo=r.published_at.tzinfo or UTC) for r in rows]
    assert stored == [
        ("k1", None, odd.link, "NULL", odd.summary, odd.author, "fetched", None, list(odd.tags)),
        ("k2", "k2", None, "t", "s", None, "feed", "en", []),
    ]
    assert published == [NOW - timedelta(days=1), NOW]


def test_saving_a_poll_updates_state_and_releases_the_lease(db: Database) -> None:
    store.sync_feeds(db, feeds("a"), NOW)
    state = store.claim_due_feeds(db, "me", NOW, LEASE, 1)[0]

    store.save_poll(db, ok_result(state.id, (item("k1"),)), "me", StoryFiling())

    view = store.list_feeds(db)[0]
    assert view.status == "ok" and view.items == 1 and view.leased_by is None
    assert view.next_poll_at == NOW + timedelta(minutes=15)
    later = store.claim_due_feeds(db, "me", NOW + timedelta(minutes=16), LEASE, 1)[0]
    assert later.validators == Validators('"abc"', "Sun, 29 Nov 2026 11:00:00 GMT")
    assert later.body_hash == "h" * 64


def test_failures_count_up_and_a_success_resets_them(db: Database) -> None:
    store.sync_feeds(db, feeds("a"), NOW)
    feed_id = store.claim_due_feeds(db, "me", NOW, LEASE, 1)[0].id
    failed = PollResult(
        feed_id=feed_id,
        started_at=NOW,
        finished_at=NOW,
        outcome="error",
        next_poll_at=NOW + timedelta(minutes=30),
        error_kind="http",
        error="HTTP 500",
    )

    store.save_poll(db, failed, "me", StoryFiling())
    store.save_poll(db, failed, "me", StoryFiling())
    after_failures = store.list_feeds(db)[0]
    store.save_poll(db, ok_result(feed_id, ()), "me", StoryFiling())

    assert after_failures.consecutive_failures == 2 and after_failures.last_error == "HTTP 500"
    assert store.list_feeds(db)[0].consecutive_failures == 0


def test_gone_feeds_are_never_claimed(db: Database) -> None:
    store.sync_feeds(db, feeds("a"), NOW)
    feed_id = store.claim_due_feeds(db, "me", NOW, LEASE, 1)[0].id
    gone = PollResult(
        feed_id=feed_id,
        started_at=NOW,
        finished_at=NOW,
        outcome="gone",
        next_poll_at=NOW,
        error_kind="gone",
        error="HTTP 410 Gone",
    )

    store.save_poll(db, gone, "me", StoryFiling())

    assert store.claim_due_feeds(db, "me", NOW + timedelta(days=1), LEASE, 1) == []
    assert store.list_feeds(db)[0].status == "gone"


def test_a_new_url_resets_what_was_known_about_the_feed(db: Database) -> None:
    store.sync_feeds(db, feeds("a"), NOW)
    feed_id = store.claim_due_feeds(db, "me", NOW, LEASE, 1)[0].id
    store.save_poll(db, ok_result(feed_id, ()), "me", StoryFiling())

    moved = [
        FeedConfig(name="a", url="http://127.0.0.1:9/moved.xml", interval=timedelta(seconds=60))
    ]
    store.sync_feeds(db, moved, NOW)

    state = store.claim_due_feeds(db, "me", NOW, LEASE, 1)[0]
    assert state.url.endswith("moved.xml") and state.validators == Validators()


def test_history_older_than_the_cutoff_is_pruned(db: Database) -> None:
    store.sync_feeds(db, feeds("a"), NOW)
    feed_id = store.claim_due_feeds(db, "me", NOW, LEASE, 1)[0].id
    store.save_poll(db, ok_result(feed_id, ()), "me", StoryFiling())

    def polls_before(when: datetime) -> store.Cutoffs:
        return store.Cutoffs(items=NOW, matches=NOW, deliveries=NOW, polls=when)

    assert store.prune(db, polls_before(NOW - timedelta(days=1))).polls == 0
    assert store.prune(db, polls_before(NOW + timedelta(days=1))).polls == 1


def test_health_needs_a_fresh_heartbeat(db: Database) -> None:
    store.sync_feeds(db, feeds("a"), NOW)
    stale = timedelta(minutes=2)

    before = store.check_health(db, NOW, stale)
    store.beat(db, "me", "host", 1, "0.1", NOW)
    after = store.check_health(db, NOW + timedelta(seconds=30), stale)
    store.forget(db, "me")

    assert not before.healthy and "no daemon heartbeat" in before.problems[0]
    assert after.healthy and after.daemons == ("me",)
    assert not store.check_health(db, NOW, stale).healthy


def test_health_reports_overdue_feeds(db: Database) -> None:
    store.sync_feeds(db, feeds("a"), NOW)
    store.beat(db, "me", "host", 1, "0.1", NOW + timedelta(hours=1))

    report = store.check_health(db, NOW + timedelta(hours=1), timedelta(minutes=2))

    assert not report.healthy and report.feeds_overdue == 1 and "overdue: a" in report.problems[0]


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'x' / 'm.db'}")  # parent folder is created
    db.upgrade()

    with db.engine.connect() as conn:
        mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()

    assert mode == "wal"


def test_migrations_match_the_table_models_column_for_column(db: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)

    assert differences == []


def test_the_feed_title_and_parser_complaints_are_kept(db: Database) -> None:
    store.sync_feeds(db, feeds("a"), NOW)
    state = store.claim_due_feeds(db, "me", NOW, LEASE, 1)[0]
    result = ok_result(state.id, (item("k1"),))

    store.save_poll(
        db, replace(result, feed_title="Wire", bozo="SAXParseException: x"), "me", StoryFiling()
    )

    assert store.list_feeds(db)[0].title == "Wire"
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT bozo FROM poll").scalar() == "SAXParseException: x"


@pytest.mark.postgres
def test_daemons_starting_together_migrate_a_fresh_postgresql_once(pg_url: str) -> None:
    name = f"monitor_race_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = pg_url.rsplit("/", 1)[0] + f"/{name}"
    script = "import sys; from monitor.store import Database; Database(sys.argv[1]).upgrade()"

    # separate processes, as daemons are (Alembic itself is not thread-safe)
    starts = [
        subprocess.Popen([sys.executable, "-c", script, url], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    results = [(p.communicate(timeout=60)[1], p.returncode) for p in starts]
    db = Database(url)
    current = db.is_current()
    db.dispose()
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')

    assert [code for _, code in results] == [0, 0, 0, 0], results
    assert current
