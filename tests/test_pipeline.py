"""poll_feed end to end: a real HTTP server, real parsing, a real database."""

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from monitor import store
from monitor.app import open_app
from monitor.backoff import backoff
from monitor.engine.rulebook import RuleBook
from monitor.model import PollReport
from monitor.pipeline import poll_feed
from monitor.settings import FeedConfig, HttpSettings, Settings
from monitor.store import Database
from tests.conftest import RULES_DIR
from tests.feedserver import FeedServer

START = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def settings_for(server: FeedServer, **paths: str) -> Settings:
    feeds = tuple(
        FeedConfig(name=name, url=server.url(path), interval=timedelta(minutes=10))
        for name, path in paths.items()
    )
    return Settings(feeds=feeds, http=HttpSettings(total_timeout=timedelta(seconds=5)))


def poll(db: Database, settings: Settings, name: str, at: datetime = START) -> PollReport:
    clock: Callable[[], datetime] = lambda: at  # noqa: E731

    async def go() -> PollReport:
        async with open_app(settings, db=db, clock=clock) as app:
            store.sync_feeds(db, settings.feeds, at)
            state = store.claim_due_feeds(db, app.owner, at, timedelta(minutes=5), 1, [name])[0]
            return await poll_feed(app, settings.feed(name), state)

    return asyncio.run(go())


def fresh(name: str) -> str:
    """A feed file name no other test (or parametrisation) has served."""
    return f"{uuid.uuid4().hex[:8]}-{name}"


def feed_view(db: Database, name: str) -> store.FeedView:
    return next(v for v in store.list_feeds(db) if v.name == name)


def rss(*titles: str, build: str = "1") -> bytes:
    items = "".join(
        f"<item><title>{t}</title><guid>id-{t}</guid><link>http://example.org/{t}</link></item>"
        for t in titles
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<lastBuildDate>{build}</lastBuildDate>{items}</channel></rss>"
    ).encode()


def test_first_poll_stores_items_and_second_stores_nothing(
    db: Database, feed_server: FeedServer
) -> None:
    settings = settings_for(feed_server, basic="/feeds/basic.xml")

    first = poll(db, settings, "basic")
    second = poll(db, settings, "basic", START + timedelta(minutes=10))

    assert first.outcome == "ok" and first.items_new == first.items_seen > 0
    assert second.outcome == "not-modified" and second.items_new == 0
    last = [r for r in feed_server.requests if r.path == "/feeds/basic.xml"][-1]
    assert last.headers.get("If-None-Match") and last.headers.get("If-Modified-Since")
    assert feed_view(db, "basic").items == first.items_new


def test_an_unchanged_body_without_validators_is_not_parsed_again(
    db: Database, feed_server: FeedServer
) -> None:
    settings = settings_for(feed_server, plain="/plain/basic-atom.xml")

    poll(db, settings, "plain")
    again = poll(db, settings, "plain", START + timedelta(minutes=10))

    assert again.outcome == "unchanged" and again.items_seen == 0


def test_only_new_entries_are_stored_when_the_feed_changes(
    db: Database, feed_server: FeedServer
) -> None:
    name = fresh("changing.xml")
    feed_server.set_feed(name, rss("a", "b"))
    settings = settings_for(feed_server, changing=f"/feeds/{name}")
    poll(db, settings, "changing")

    feed_server.set_feed(name, rss("b", "c", "d"))
    report = poll(db, settings, "changing", START + timedelta(minutes=10))

    assert (report.items_seen, report.items_new) == (3, 2)
    assert feed_view(db, "changing").items == 4


def test_items_without_guid_link_or_date_keep_their_keys_across_polls(
    db: Database, feed_server: FeedServer
) -> None:
    name = fresh("nokeys.xml")
    body = (feed_server.feeds_dir / "nokeys.xml").read_bytes()
    feed_server.set_feed(name, body)
    settings = settings_for(feed_server, nokeys=f"/feeds/{name}")
    first = poll(db, settings, "nokeys")
    feed_server.set_feed(name, body.replace(b"</channel>", b"<ttl>5</ttl></channel>"))

    again = poll(db, settings, "nokeys", START + timedelta(minutes=10))

    assert first.items_new > 0 and again.outcome == "ok"
    assert again.items_seen == first.items_seen and again.items_new == 0


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("/feeds/malformed.xml", None),  # bozo but entries: stored
        ("/feeds/cp1251.xml?ct=application/xml", None),  # charset only in the XML declaration
        ("/feeds/latin1-as-utf8.xml", None),  # declared UTF-8, really Latin-1
        ("/feeds/future-date.xml", None),
        ("/feeds/broken.xml", "malformed"),
        ("/feeds/html-page.xml", "not-a-feed"),
        ("/feeds/empty.xml", "empty"),
        ("/feeds/entity-bomb.xml", "entities"),
        ("/feeds/xxe.xml", "entities"),
        ("/big?mb=50", "too-large"),
        ("/gzip-bomb", "too-large"),
        ("/drip?seconds=30", "timeout"),
        ("/loop", "network"),
        ("/status/404", "http"),
        ("/status/500", "http"),
        ("/status/410", "gone"),
        ("/status/429?retry_after=600", "rate-limited"),
    ],
)
def test_each_hostile_feed_fails_with_its_own_error(
    db: Database, feed_server: FeedServer, path: str, kind: str | None
) -> None:
    settings = settings_for(feed_server, hostile=path)
    settings = settings.model_copy(
        update={"http": HttpSettings(total_timeout=timedelta(seconds=2), max_body=1_000_000)}
    )

    report = poll(db, settings, "hostile")

    assert report.error_kind == kind
    view = feed_view(db, "hostile")
    if kind is None:
        assert report.outcome == "ok" and view.items > 0
    else:
        assert view.status == ("gone" if kind == "gone" else "error")
        assert view.last_error_kind == kind and view.last_error


def test_an_external_dtd_is_never_fetched(db: Database, feed_server: FeedServer) -> None:
    settings = settings_for(feed_server, dtd="/feeds/external-dtd.xml")

    poll(db, settings, "dtd")

    assert feed_server.hits("/dtd/evil.dtd") == 0


def test_retry_after_pushes_the_next_poll_back(db: Database, feed_server: FeedServer) -> None:
    settings = settings_for(feed_server, limited="/status/429?retry_after=3600")

    poll(db, settings, "limited")

    assert feed_view(db, "limited").next_poll_at >= START + timedelta(seconds=3600)


def test_failing_feeds_back_off_exponentially(db: Database, feed_server: FeedServer) -> None:
    settings = settings_for(feed_server, down="/status/500")
    waits = []
    at = START
    for _ in range(4):
        poll(db, settings, "down", at)
        next_at = feed_view(db, "down").next_poll_at
        waits.append(next_at - at)
        at = next_at

    assert waits == [timedelta(minutes=m) for m in (10, 20, 40, 80)]
    assert feed_view(db, "down").consecutive_failures == 4


def test_a_success_after_failures_returns_to_the_normal_interval(
    db: Database, feed_server: FeedServer
) -> None:
    name = fresh("flaky.xml")
    feed_server.set_feed(name, b"<html><body>maintenance</body></html>")
    settings = settings_for(feed_server, flaky=f"/feeds/{name}")
    poll(db, settings, "flaky")

    feed_server.set_feed(name, rss("x"))
    later = START + timedelta(minutes=10)
    poll(db, settings, "flaky", later)

    view = feed_view(db, "flaky")
    assert view.status == "ok" and view.consecutive_failures == 0
    assert view.next_poll_at == later + timedelta(minutes=10)


def test_one_broken_feed_does_not_affect_another_polled_at_once(
    db: Database, feed_server: FeedServer
) -> None:
    settings = settings_for(feed_server, good="/feeds/basic.xml", bad="/feeds/broken.xml")

    async def both() -> list[PollReport]:
        async with open_app(settings, db=db, clock=lambda: START) as app:
            store.sync_feeds(db, settings.feeds, START)
            states = store.claim_due_feeds(db, app.owner, START, timedelta(minutes=5), 2)
            return await asyncio.gather(*(poll_feed(app, settings.feed(s.name), s) for s in states))

    reports = {r.feed: r for r in asyncio.run(both())}

    assert reports["good"].outcome == "ok" and reports["bad"].outcome == "error"


@pytest.mark.parametrize(
    ("failures", "expected"), [(1, 10), (2, 20), (3, 40), (6, 320), (7, 360), (50, 360)]
)
def test_backoff_doubles_up_to_the_cap(failures: int, expected: int) -> None:
    delay = backoff(timedelta(minutes=10), failures, timedelta(hours=6))

    assert delay == timedelta(minutes=expected)


def test_a_failing_feed_is_never_retried_sooner_than_its_interval(
    db: Database, feed_server: FeedServer
) -> None:
    # Given a feed polled every 12 h whose backoff cap (6 h) is shorter than that
    feed = FeedConfig(name="slow", url=feed_server.url("/nope.xml"), interval=timedelta(hours=12))
    settings = Settings(
        feeds=(feed,),
        http=HttpSettings(total_timeout=timedelta(seconds=5)),
        schedule={"max_backoff": "6h"},
    )

    # When it fails three times
    for attempt in range(3):
        report = poll(db, settings, "slow", START + timedelta(days=attempt))

    # Then the next try is still a whole interval later
    assert report.outcome == "error"
    assert feed_view(db, "slow").next_poll_at == START + timedelta(days=2, hours=12)


def test_entries_that_share_one_link_are_kept_apart(db: Database, feed_server: FeedServer) -> None:
    name = fresh("homepage-links.xml")
    items = "".join(
        f"<item><title>Bulletin {i}</title><link>http://example.org/</link></item>"
        for i in range(3)
    )
    feed_server.set_feed(name, f"<rss version='2.0'><channel>{items}</channel></rss>".encode())
    settings = settings_for(feed_server, home=f"/feeds/{name}")

    report = poll(db, settings, "home")

    assert (report.items_seen, report.items_new) == (3, 3)


def rulebook() -> RuleBook:
    return RuleBook(RULES_DIR, RULES_DIR / "seeds", lambda: START.date())


def poll_with_rules(db: Database, settings: Settings, name: str, at: datetime) -> PollReport:
    async def go() -> PollReport:
        async with open_app(settings, db=db, clock=lambda: at, rules=rulebook()) as app:
            store.sync_feeds(db, settings.feeds, at)
            state = store.claim_due_feeds(db, app.owner, at, timedelta(minutes=5), 1, [name])[0]
            return await poll_feed(app, settings.feed(name), state)

    return asyncio.run(go())


def test_matches_of_new_items_are_stored_with_their_evidence(
    db: Database, feed_server: FeedServer
) -> None:
    name = fresh("signals.xml")
    feed_server.set_feed(name, rss("Alphaland ships artillery to Betania", "Weather in Betania"))
    settings = settings_for(feed_server, signals=f"/feeds/{name}")

    report = poll_with_rules(db, settings, "signals", START)

    assert report.matches_new == 1
    [found] = store.recent_matches(db, 10)
    assert (found.rule, found.title, found.level) == (
        "alp-bet-arms",
        "Alphaland ships artillery to Betania",
        "high",
    )
    assert found.version == rulebook().current.rule("alp-bet-arms").version
    assert found.sentence == "Alphaland ships artillery to Betania"
    assert {(e["ref"], e["text"]) for e in found.evidence} == {
        ("ALP", "Alphaland"),
        ("WEAPONS", "artillery"),
        ("BET", "Betania"),
    }


def test_a_repoll_never_records_a_match_twice(db: Database, feed_server: FeedServer) -> None:
    name = fresh("signals.xml")
    feed_server.set_feed(name, rss("Alphaland ships artillery to Betania"))
    settings = settings_for(feed_server, signals=f"/feeds/{name}")
    poll_with_rules(db, settings, "signals", START)

    feed_server.set_feed(
        name, rss("Alphaland ships artillery to Betania", "Betania buys Alphan missiles")
    )
    report = poll_with_rules(db, settings, "signals", START + timedelta(minutes=10))

    assert report.matches_new == 1
    assert sorted(m.title for m in store.recent_matches(db, 10)) == [
        "Alphaland ships artillery to Betania",
        "Betania buys Alphan missiles",
    ]
