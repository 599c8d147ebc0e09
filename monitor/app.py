"""The composition root: builds the database, HTTP client and clock from `Settings`."""

import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime

from monitor.alerts.notify import Notifier, build_notifiers
from monitor.alerts.stories import StoryFiling
from monitor.engine.rulebook import RuleBook
from monitor.ingest.fetch import Fetcher, Transport
from monitor.ingest.workers import ReadPool
from monitor.reading import start_readers
from monitor.settings import Settings
from monitor.store import Database, Filing

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class App:
    """Everything a poll needs, passed explicitly (no module globals)."""

    settings: Settings
    db: Database
    fetcher: Fetcher
    clock: Clock
    owner: str  # this process's name in leases and heartbeats
    readers: ReadPool  # parse + normalize, in worker processes
    rules: RuleBook | None = None  # None: items are stored, nothing is matched
    notifiers: Mapping[str, Notifier] = field(default_factory=dict)
    filing: Filing = field(default_factory=StoryFiling)  # how matches join stories


def new_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@asynccontextmanager
async def open_app(
    settings: Settings,
    *,
    db: Database | None = None,
    transport: Transport | None = None,
    clock: Clock = utc_now,
    rules: RuleBook | None = None,
    notifiers: Mapping[str, Notifier] | None = None,
    readers: ReadPool | None = None,
) -> AsyncIterator[App]:
    """Build an `App`; the HTTP client and the reader processes it made are closed on exit
    (the database and given `readers` are the caller's).

    Raises:
        AlertError: an alert target cannot be set up.
    """
    database = db or Database(settings.database_url)
    senders = build_notifiers(settings.targets) if notifiers is None else notifiers
    own = (
        start_readers(settings.schedule.readers, settings.cache_dir)
        if readers is None
        else nullcontext(readers)
    )
    with own as pool:
        async with Fetcher(settings.http, transport) as fetcher:
            # a story last seen by a poll that began up to a poll's budget before it was
            # stored is still found by the next look
            filing = StoryFiling(margin=settings.http.total_timeout * 2)
            yield App(settings, database, fetcher, clock, new_owner(), pool, rules, senders, filing)
