"""The daemon: APScheduler runs a dispatch tick and housekeeping; due feeds come from the DB.

The only user of APScheduler. Which feed is due lives in the database (`next_poll_at`,
claimed with a lease), never in the scheduler's memory, so a restart neither bursts nor
forgets and several daemons can share one PostgreSQL.
"""

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from monitor import __version__, store
from monitor.alerts.sender import Sender
from monitor.app import App
from monitor.config import FeedConfig, TargetConfig
from monitor.errors import ConfigError, Problem, RuleError, StoreError
from monitor.model import FeedState
from monitor.pipeline import poll_feed

log = logging.getLogger(__name__)

HOUSEKEEPING_EVERY = timedelta(minutes=10)
RELOAD_EVERY = timedelta(seconds=2)  # how often rule files are checked for changes
STOP_GRACE = 3.0  # seconds in-flight polls get to finish before they are cancelled
CANCEL_GRACE = 2.0


class Daemon:
    """Polls due feeds until `stop` is set; see `run`."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._feeds = {feed.name: feed for feed in app.settings.feeds}
        self._inflight: set[asyncio.Task[None]] = set()
        self._dispatching = asyncio.Lock()
        self._delivering = asyncio.Lock()
        rules = app.rules
        self._sender = Sender(
            app.db,
            app.notifiers,
            app.settings.alerts,
            app.owner,
            app.clock,
            lambda: rules.current if rules else None,
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Sync feeds with the config, then dispatch due feeds until `stop` is set; on stop,
        let in-flight polls finish briefly, cancel the rest and release every lease.

        Raises:
            StoreError: the database is unreachable at start.
        """
        settings, now = self.app.settings, self.app.clock()
        await asyncio.to_thread(store.sync_feeds, self.app.db, settings.feeds, now)
        await self._beat()
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self.dispatch,
            "interval",
            id="dispatch",
            next_run_time=datetime.now(UTC),
            seconds=settings.schedule.tick.total_seconds(),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.add_job(
            self.housekeeping,
            "interval",
            id="housekeeping",
            next_run_time=datetime.now(UTC),
            seconds=HOUSEKEEPING_EVERY.total_seconds(),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
        scheduler.add_job(
            self.deliver,
            "interval",
            id="deliver",
            max_instances=1,
            coalesce=True,
            seconds=settings.alerts.tick.total_seconds(),
            misfire_grace_time=None,
            next_run_time=datetime.now(UTC),
        )
        for target, trigger in digest_triggers(settings.targets).items():
            scheduler.add_job(
                self.digest,
                trigger,
                args=[target],
                id=f"digest:{target}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=3600,
            )
        if self.app.rules is not None:
            scheduler.add_job(
                self.reload_rules,
                "interval",
                id="reload-rules",
                max_instances=1,
                seconds=RELOAD_EVERY.total_seconds(),
                coalesce=True,
                misfire_grace_time=None,
            )
        scheduler.start()
        log.info("daemon started", extra={"owner": self.app.owner, "feeds": len(self._feeds)})
        try:
            await stop.wait()
        finally:
            async with self._dispatching:
                # a send in progress gets the grace period to record what happened
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._delivering.acquire(), STOP_GRACE)
                scheduler.shutdown(wait=False)
            await self._drain()
            await asyncio.to_thread(self._release)
            log.info("daemon stopped", extra={"owner": self.app.owner})

    async def dispatch(self) -> None:
        """Lease as many due feeds as there are free workers and start polling them."""
        async with self._dispatching:
            try:
                await self._beat()
                free = self.app.settings.http.workers - len(self._inflight)
                claimed = await asyncio.to_thread(
                    store.claim_due_feeds,
                    self.app.db,
                    self.app.owner,
                    self.app.clock(),
                    self.app.settings.schedule.lease,
                    free,
                )
            except StoreError as exc:
                log.error("dispatch failed", extra={"error": str(exc)})
                return
            for state in claimed:
                feed = self._feeds.get(state.name)
                if feed is not None:
                    task = asyncio.create_task(self._poll(feed, state), name=f"feed:{feed.name}")
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)

    async def housekeeping(self) -> None:
        """Prune old poll history."""
        before = self.app.clock() - self.app.settings.schedule.keep_history
        try:
            pruned = await asyncio.to_thread(store.prune_history, self.app.db, before)
        except StoreError as exc:
            log.error("housekeeping failed", extra={"error": str(exc)})
            return
        if pruned:
            log.info("poll history pruned", extra={"rows": pruned})

    async def deliver(self) -> None:
        """Send the alerts that are due."""
        async with self._delivering:
            try:
                await self._sender.send_due()
            except StoreError as exc:
                log.error("delivery failed", extra={"error": str(exc)})

    async def digest(self, target: str) -> None:
        """Send a digest target's pending alerts as one message."""
        async with self._delivering:
            try:
                count = await self._sender.send_digest(target)
            except StoreError as exc:
                log.error("digest failed", extra={"target": target, "error": str(exc)})
                return
        log.info("digest sent", extra={"target": target, "alerts": count})

    async def reload_rules(self) -> None:
        """Swap in changed rule files if they are valid; otherwise log why and keep the old."""
        assert self.app.rules is not None
        try:
            changed = await asyncio.to_thread(self.app.rules.reload_if_changed)
        except RuleError as exc:
            for problem in exc.problems:
                log.error("rule reload rejected", extra={"problem": str(problem)})
            log.error(
                "keeping the previous rules",
                extra={"version": self.app.rules.current.version, "errors": len(exc.problems)},
            )
            return
        if changed:
            current = self.app.rules.current
            log.info(
                "rules reloaded", extra={"version": current.version, "rules": len(current.rules)}
            )

    async def _poll(self, feed: FeedConfig, state: FeedState) -> None:
        try:
            await poll_feed(self.app, feed, state)
        except StoreError as exc:  # the lease runs out and the feed is retried
            log.error("poll not stored", extra={"feed": feed.name, "error": str(exc)})

    async def _beat(self) -> None:
        await asyncio.to_thread(
            store.beat,
            self.app.db,
            self.app.owner,
            socket.gethostname(),
            os.getpid(),
            __version__,
            self.app.clock(),
        )

    async def _drain(self) -> None:
        if not self._inflight:
            return
        _, pending = await asyncio.wait(self._inflight, timeout=STOP_GRACE)
        for task in pending:
            task.cancel()
        if pending:
            log.info("cancelled in-flight polls", extra={"count": len(pending)})
            await asyncio.wait(pending, timeout=CANCEL_GRACE)

    def _release(self) -> None:
        try:
            released = store.release_leases(self.app.db, self.app.owner)
            store.forget(self.app.db, self.app.owner)
        except StoreError as exc:
            log.error("could not release leases", extra={"error": str(exc)})
            return
        if released:
            log.info("leases released", extra={"count": released})


def digest_triggers(targets: Sequence[TargetConfig]) -> dict[str, CronTrigger]:
    """The cron trigger of every digest target.

    Raises:
        ConfigError: a cron expression or time zone APScheduler does not accept.
    """
    triggers, problems = {}, []
    for target in targets:
        if target.mode != "digest" or target.digest is None:
            continue
        try:
            triggers[target.name] = CronTrigger.from_crontab(
                target.digest.cron, timezone=target.digest.timezone
            )
        except ValueError as exc:
            problems.append(Problem(None, f"digest.cron: {exc}", where=f"target {target.name}"))
    if problems:
        raise ConfigError(problems)
    return triggers


def next_digest(target: TargetConfig, after: datetime) -> datetime | None:
    """When the digest of `target` next goes out after `after` (for tests and the CLI)."""
    trigger = digest_triggers([target]).get(target.name)
    return trigger.get_next_fire_time(None, after) if trigger else None


async def run_until_signalled(app: App) -> None:
    """Run the daemon until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        await Daemon(app).run(stop)
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
