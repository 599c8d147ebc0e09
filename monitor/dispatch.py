"""Dispatching polls: lease due feeds for the free workers and poll each with `poll_feed`.

The daemon's tick and `monitor poll` share this. No host gets more than `http.per_host`
polls in flight, and that is decided when feeds are leased, so a poll never waits for its
host while holding a worker: eight slow feeds on one host leave the other workers to the
other hosts.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from monitor import store
from monitor.app import App
from monitor.errors import StoreError
from monitor.model import FeedState, PollReport
from monitor.pipeline import poll_feed
from monitor.settings import FeedConfig

log = logging.getLogger(__name__)

CANCEL_GRACE = 2.0  # seconds cancelled polls get to unwind


class Dispatcher:
    """Polls in flight, by host."""

    def __init__(
        self,
        app: App,
        feeds: Mapping[str, FeedConfig],
        on_free: Callable[[], None] = lambda: None,
    ) -> None:
        """`on_free` is called each time a poll ends and frees a worker (the daemon fills
        it at once rather than on its next tick)."""
        self.app, self.feeds, self._on_free = app, feeds, on_free
        self._inflight: dict[asyncio.Task[PollReport | None], str] = {}

    @property
    def busy(self) -> int:
        return len(self._inflight)

    async def fill(
        self, names: Sequence[str] | None = None
    ) -> dict[str, "asyncio.Task[PollReport | None]"]:
        """Lease as many due feeds (or of `names`, due or not) as there are free workers,
        within each host's limit, and start polling them. Returns the polls started."""
        settings = self.app.settings
        free = settings.http.workers - len(self._inflight)
        if free <= 0:
            return {}
        hosts = store.HostLimit(settings.http.per_host, Counter(self._inflight.values()))
        claimed = await asyncio.to_thread(
            store.claim_due_feeds,
            self.app.db,
            self.app.owner,
            self.app.clock(),
            settings.schedule.lease,
            free,
            names,
            hosts=hosts,
        )
        started = {}
        for state in claimed:
            feed = self.feeds.get(state.name)
            if feed is None:  # in the table, but another daemon's config lists it
                continue
            task = asyncio.create_task(self._poll(feed, state), name=f"feed:{feed.name}")
            self._inflight[task] = feed.host
            task.add_done_callback(self._done)
            started[feed.name] = task
        return started

    async def wait_any(self) -> None:
        """Return once any poll in flight has ended (at once when none is)."""
        if self._inflight:
            await asyncio.wait(set(self._inflight), return_when=asyncio.FIRST_COMPLETED)

    async def drain(self, grace: float) -> int:
        """Let polls in flight finish for `grace` seconds, then cancel the rest. Returns how
        many were cancelled."""
        if not self._inflight:
            return 0
        _, pending = await asyncio.wait(set(self._inflight), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=CANCEL_GRACE)
        return len(pending)

    async def _poll(self, feed: FeedConfig, state: FeedState) -> PollReport | None:
        try:
            return await poll_feed(self.app, feed, state)
        except StoreError as exc:  # the lease runs out and the feed is retried
            log.error("poll not stored", extra={"feed": feed.name, "error": str(exc)})
            return None

    def _done(self, task: "asyncio.Task[PollReport | None]") -> None:
        self._inflight.pop(task, None)
        self._on_free()
