"""A database filled the way the daemon fills it, for the dashboard's tests: feeds synced,
items polled day after day, matched by the real engine with the fixture rules, filed into
stories and queued as alerts by `store.save_poll`; one delivery dead, one match marked.

The series has a known shape: one or two matches a day and a spike three days ago.
"""

import asyncio
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from starlette.applications import Starlette

from monitor import store
from monitor.alerts.stories import StoryFiling
from monitor.engine.match import match_item
from monitor.engine.rulebook import load_rules
from monitor.engine.ruleset import RuleSet
from monitor.model import Item, PollResult
from monitor.settings import FeedConfig, Settings, TargetConfig, WebSettings
from monitor.web import create_app
from tests.conftest import PG_ADMIN, RULES_DIR

TODAY = date(2026, 11, 30)
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
SPIKE_DAY = TODAY - timedelta(days=3)
SPIKE = 9  # matches on the spike day
DAYS = 45
ARMS = "alp-bet-arms"
PACT = "pact-bet-statement"
FEED_SECRET = "feedsecret123"  # in a feed URL's query: must never reach a page
APPRISE_SECRET = "TokenBsecret"  # in a delivery's error: must never reach a page
FEEDS = (
    FeedConfig(
        name="wire-a",
        url=f"http://127.0.0.1:9/a.xml?token={FEED_SECRET}",
        interval=timedelta(minutes=15),
        language="en",
    ),
    FeedConfig(
        name="wire-b", url="http://127.0.0.1:9/b.xml", interval=timedelta(minutes=15), language="en"
    ),
)
# Different enough from one another that each is its own story.
SIGNALS = (
    "Alphaland ships artillery to Betania",
    "Betania receives missiles from Alphaland, officials say",
    "Alphaland sends rifles and ammunition to Betania's army",
    "Satellite images show Alphaland shells crossing into Betania",
    "Betania buys Alphaland artillery in a secret deal",
)


def rules() -> RuleSet:
    return load_rules(RULES_DIR, RULES_DIR / "seeds", TODAY)


@dataclass(frozen=True, slots=True)
class Filled:
    matches: int
    arms: int  # matches of ARMS
    first_match: int  # id of the oldest match
    last_match: int  # id of the newest match
    dead_delivery: int
    marked_relevant: int  # the oldest ARMS match, marked relevant


def per_day(day: date, spike_day: date = SPIKE_DAY) -> int:
    """How many signal items the fill publishes on `day`."""
    if day == spike_day:
        return SPIKE
    return 1 + (day.toordinal() % 3 == 0)


def fill(db: store.Database, ruleset: RuleSet | None = None, today: date = TODAY) -> Filled:
    """Fill `db` with DAYS days of polls up to `today` (the spike three days before it)."""
    ruleset = ruleset or rules()
    now = datetime(today.year, today.month, today.day, 15, 0, tzinfo=UTC)
    store.sync_feeds(db, FEEDS, now - timedelta(days=DAYS + 1))
    n = 0
    for back in range(DAYS, -1, -1):
        day = today - timedelta(days=back)
        when = datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)
        items = []
        for _ in range(per_day(day, today - timedelta(days=3))):
            n += 1
            title = f"{SIGNALS[n % len(SIGNALS)]} (report {n})"
            items.append(make_item(f"s{n}", title, when, f"https://news.example.org/{n}"))
        if day.toordinal() % 4 == 0:
            title = f"The Pact condemns Betania over the border clash of {day}"
            items.append(make_item(f"p{day}", title, when, f"https://pact.example.org/{day}"))
        items.append(make_item(f"q{day}", f"Weather in Betopolis on {day}", when, None))
        _poll(db, ruleset, FEEDS[n % 2].name, when, items)
    ids = sorted(m.id for m in store.match_page(db, store.MatchFilter(), limit=1000).rows)
    arms = store.match_page(db, store.MatchFilter(rule=ARMS), limit=1000).rows
    delivery = store.delivery_page(db, limit=1).rows[0]
    store.record_attempt(
        db,
        delivery.id,
        now,
        ok=False,
        error=f"slack://TokenA/{APPRISE_SECRET}/TokenC/ said no",
        status="dead",
    )
    store.set_feedback(db, arms[-1].id, True, "a real shipment", now)
    return Filled(len(ids), len(arms), ids[0], ids[-1], delivery.id, arms[-1].id)


def make_item(key: str, title: str, when: datetime, link: str | None) -> Item:
    return Item(
        key=key,
        guid=key,
        link=link,
        title=title,
        summary="Officials in Betopolis confirmed the shipment.",
        author=None,
        published_at=when,
        date_source="feed",
        language="en",
    )


def _poll(
    db: store.Database, ruleset: RuleSet, feed: str, when: datetime, items: list[Item]
) -> None:
    [state] = store.claim_due_feeds(db, "fill", when, timedelta(minutes=5), 1, [feed])
    matches = tuple(
        replace(m, targets=("desk",), rule_title=m.rule)
        for item in items
        for m in match_item(ruleset, item)[0]
    )
    result = PollResult(
        feed_id=state.id,
        started_at=when,
        finished_at=when + timedelta(seconds=1),
        outcome="ok",
        next_poll_at=when + timedelta(minutes=15),
        http_status=200,
        items=tuple(items),
        matches=matches,
    )
    store.save_poll(db, result, "fill", StoryFiling())


# --- the app through httpx's ASGI transport ---------------------------------------------

BASE = "http://127.0.0.1:8080"
TARGET_SECRET = "TargetTokenZ9"  # in the alert target's Apprise URL
WEB_TOKEN = "web-token-Q7"


def web_settings(**web: object) -> Settings:
    targets = (TargetConfig(name="desk", urls=(f"slack://TokenA/{TARGET_SECRET}/TokenC/#desk",)),)
    return Settings(feeds=FEEDS, targets=targets, web=WebSettings(**web))


def make_app(db: store.Database, *, token: str | None = None, **web: object) -> Starlette:
    ruleset = rules()
    settings = web_settings(**web)
    return create_app(settings, db, token=token, rules=lambda: ruleset, clock=lambda: NOW)


class Browser:
    """Requests to the app as one browser makes them: cookies kept, Origin sent on POST."""

    def __init__(self, app: Starlette, base: str = BASE) -> None:
        self.app, self.base = app, base
        self.cookies: dict[str, str] = {}

    def get(self, path: str, **headers: str) -> httpx.Response:
        """GET `path`; keyword headers are written with underscores (hx_request=...)."""
        return self.request(
            "GET", path, headers={k.replace("_", "-"): v for k, v in headers.items()}
        )

    def post(
        self, path: str, data: dict[str, str] | None = None, *, origin: str | None = "", **kw: Any
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if origin is not None:
            headers.setdefault("origin", origin or self.base)
        return self.request("POST", path, data=data, headers=headers, **kw)

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            headers = dict(kw.pop("headers", None) or {})
            if self.cookies:
                headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            async with httpx.AsyncClient(transport=transport, base_url=self.base) as client:
                response = await client.request(method, path, headers=headers, **kw)
            for name, value in response.cookies.items():
                self.cookies[name] = value
            return response

        return asyncio.run(go())

    def csrf(self, path: str = "/") -> str:
        """Load a page (starting a session) and return its CSRF token."""
        found = re.search(r'name="csrf" value="([^"]+)"', self.get(path).text)
        if found is None:
            found = re.search(r'"X-CSRF-Token": "([^"]+)"', self.get(path).text)
        assert found is not None, "no CSRF token on the page"
        return found[1]


@contextmanager
def filled_database(
    kind: str, folder: Path, pg_url: str | None
) -> Iterator[tuple[store.Database, Filled]]:
    """A database of its own (SQLite in `folder`, or a new PostgreSQL database next to
    `pg_url`), filled once, for a module of read-only tests; dropped afterwards."""
    if kind == "sqlite":
        db = store.Database(f"sqlite:///{folder / 'shared.db'}")
        db.upgrade()
        yield db, fill(db)
        db.dispose()
        return
    assert pg_url is not None
    name = f"monitor_web_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db = store.Database(pg_url.rsplit("/", 1)[0] + f"/{name}")
    try:
        db.upgrade()
        yield db, fill(db)
    finally:
        db.dispose()
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
