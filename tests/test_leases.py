"""Leases and shared state under concurrency, on SQLite and PostgreSQL: per-host claims,
feed sync by daemons starting together, freeing what a dead daemon held, and the outbox
rows that must survive retries and notices."""

import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from monitor import store
from monitor.model import Notice
from monitor.settings import FeedConfig
from monitor.store import Database
from tests.conftest import truncate

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def feeds_on(host: str, count: int, prefix: str) -> list[FeedConfig]:
    return [
        FeedConfig(name=f"{prefix}{i}", url=f"http://{host}/{i}.xml", interval=timedelta(hours=1))
        for i in range(count)
    ]


def test_claims_give_no_host_more_than_its_share_and_fill_up_with_others(db: Database) -> None:
    # Given eight due feeds on a slow host and three on another, all due at once
    slow, fast = feeds_on("slow.example", 8, "s"), feeds_on("fast.example", 3, "f")
    store.sync_feeds(db, slow + fast, NOW)

    # When a daemon with eight workers, two per host, claims (one slow feed already busy)
    limit = store.HostLimit(per_host=2, busy={"slow.example": 1})
    claimed = store.claim_due_feeds(db, "me", NOW, LEASE, 8, hosts=limit)

    # Then the slow host gets one more, and the rest go to the other host
    hosts = Counter(s.url.split("/")[2] for s in claimed)
    assert hosts == {"slow.example": 1, "fast.example": 2}


def test_a_claim_without_host_limits_takes_whatever_is_due(db: Database) -> None:
    store.sync_feeds(db, feeds_on("one.example", 5, "x"), NOW)

    assert len(store.claim_due_feeds(db, "me", NOW, LEASE, 10)) == 5


@pytest.mark.postgres
def test_daemons_syncing_feeds_at_once_neither_crash_nor_duplicate(pg_url: str) -> None:
    # Given a fresh schema and four processes that sync the same new feeds at the same time
    db = Database(pg_url)
    db.upgrade()
    truncate(db)
    script = (
        "import sys\nfrom datetime import UTC, datetime, timedelta\n"
        "from monitor import store\nfrom monitor.settings import FeedConfig\n"
        "feeds = [FeedConfig(name=f'f{i}', url=f'http://h{i}.example/x', "
        "interval=timedelta(hours=1)) for i in range(200)]\n"
        "store.sync_feeds(store.Database(sys.argv[1]), feeds, datetime.now(UTC))\n"
    )
    runs = [
        subprocess.Popen([sys.executable, "-c", script, pg_url], stderr=subprocess.PIPE)
        for _ in range(4)
    ]
    results = [(p.communicate(timeout=60)[1].decode(), p.returncode) for p in runs]

    # Then every one succeeded and each feed exists once
    assert [code for _, code in results] == [0, 0, 0, 0], results
    assert len(store.list_feeds(db)) == 200
    db.dispose()


def test_leases_of_daemons_found_dead_are_freed(db: Database) -> None:
    # Given feeds and a delivery leased by a daemon that died
    store.sync_feeds(db, feeds_on("h.example", 3, "d"), NOW)
    store.beat(db, "dead", "host", 4242, "0", NOW)
    store.claim_due_feeds(db, "dead", NOW, LEASE, 2)
    key = store.enqueue_notice(db, "k1", "ops", _notice(), NOW)
    [due] = store.claim_due_deliveries(db, "dead", NOW, LEASE, 5)

    # When another daemon frees what it held
    freed = store.release_leases(db, "dead")
    released = store.release_deliveries(db, ["dead"])
    store.forget(db, "dead")

    # Then the feeds and the delivery can be claimed at once, long before the lease ends
    assert key and (freed, released) == (2, 1)
    assert len(store.claim_due_feeds(db, "next", NOW, LEASE, 5)) == 3
    assert [d.alert.delivery_id for d in store.claim_due_deliveries(db, "next", NOW, LEASE, 5)] == [
        due.alert.delivery_id
    ]
    assert store.list_daemons(db) == []


def test_a_notice_is_queued_once_per_key_and_comes_back_whole(db: Database) -> None:
    first = store.enqueue_notice(db, "feed:1:down:x:ops", "ops", _notice(), NOW)
    again = store.enqueue_notice(db, "feed:1:down:x:ops", "ops", _notice(), NOW)

    [due] = store.claim_due_deliveries(db, "me", NOW, LEASE, 5)

    assert (first, again) == (True, False)
    assert due.alert == Notice(
        due.alert.delivery_id,
        "ops",
        "feed-down",
        "medium",
        "feed wire is failing",
        ("Failing since …", "URL: https://wire.example/rss"),
    )
    [view] = store.list_deliveries(db, 5)
    assert view.title == "feed wire is failing" and view.rule == "feed-down"


def test_a_digest_target_still_gets_its_notices_at_once(db: Database) -> None:
    store.enqueue_notice(db, "n1", "desk", _notice(), NOW)

    immediate = store.claim_due_deliveries(db, "me", NOW, LEASE, 5, skip=("desk",))

    assert len(immediate) == 1 and isinstance(immediate[0].alert, Notice)


def test_retrying_a_dead_delivery_restarts_its_cutoff_but_keeps_when_it_was_created(
    db: Database,
) -> None:
    store.enqueue_notice(db, "n1", "ops", _notice(), NOW)
    [due] = store.claim_due_deliveries(db, "me", NOW, LEASE, 5)
    store.record_attempt(db, due.alert.delivery_id, NOW, ok=False, error="refused", status="dead")
    later = NOW + timedelta(days=3)

    store.retry_deliveries(db, later, dead=True)

    [again] = store.claim_due_deliveries(db, "me", later, LEASE, 5)
    [view] = store.list_deliveries(db, 5)
    assert again.pending_since == later
    assert view.created_at == NOW and view.status == "pending"


def _notice() -> Notice:
    return Notice(
        0,
        "",
        "feed-down",
        "medium",
        "feed wire is failing",
        ("Failing since …", "URL: https://wire.example/rss"),
    )
