"""The daemon: APScheduler runs the dispatch tick, the sender, digests, rule reload and
housekeeping; which feed is due comes from the database.

The only user of APScheduler. Which feed is due lives in the database (`next_poll_at`,
claimed with a lease), never in the scheduler's memory, so a restart neither bursts nor
forgets and several daemons can share one PostgreSQL. At start, and every six ticks, a
daemon frees the leases of daemons that are certainly dead (on its host, a PID that no
longer runs), so a crash costs seconds, not a lease's length.

Stopping (SIGTERM/SIGINT) takes under 10 s: no new work starts, the alert being sent is sent
and recorded (up to SEND_GRACE), polls in flight get STOP_GRACE to finish and are then
cancelled, reader processes are killed, leases are released.
"""

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor import __version__, store, upkeep
from monitor.alerts.sender import Sender
from monitor.app import App
from monitor.dispatch import Dispatcher
from monitor.errors import RuleError, StoreError
from monitor.settings import Settings, TargetConfig
from monitor.yamlpos import Loc

log = logging.getLogger(__name__)

HOUSEKEEPING_EVERY = timedelta(minutes=10)
# dead daemons reaped, feed health checked: every six ticks, within these bounds
LIVENESS_EVERY = (timedelta(seconds=1), timedelta(seconds=30))
RELOAD_EVERY = timedelta(seconds=2)  # how often rule files are checked for changes
STOP_GRACE = 3.0  # seconds in-flight polls get to finish before they are cancelled
SEND_GRACE = 6.0  # seconds the alert being sent gets to be sent and recorded


class _SkippedRunFilter(logging.Filter):
    """APScheduler logs a warning each time a job is still running when its next run comes
    (a throttled email): that is the intended overlap guard, not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


class Daemon:
    """Polls due feeds and sends alerts until `stop` is set; see `run`."""

    def __init__(self, app: App) -> None:
        self.app = app
        settings = app.settings
        # a worker freed by a finished poll is filled at once, not on the next tick: at 1,000
        # feeds, waiting for the tick capped a cycle at `workers` feeds per tick
        self._freed = asyncio.Event()
        self.dispatcher = Dispatcher(
            app, {feed.name: feed for feed in settings.feeds}, on_free=self._freed.set
        )
        self._dispatching = asyncio.Lock()
        self._stopping = False
        rules = app.rules
        self.sender = Sender(
            app.db,
            app.notifiers,
            settings,
            app.owner,
            app.clock,
            lambda: rules.current if rules else None,
        )
        self._host = socket.gethostname()

    async def run(self, stop: asyncio.Event) -> None:
        """Sync feeds with the config, free dead daemons' leases, then dispatch due feeds and
        send alerts until `stop` is set; then stop as the module docstring says.

        Raises:
            StoreError: the database is unreachable at start.
        """
        settings, now = self.app.settings, self.app.clock()
        await asyncio.to_thread(store.sync_feeds, self.app.db, settings.feeds, now)
        await self._beat()
        await upkeep.reap(self.app)
        web_stop = asyncio.Event()
        web = await self._dashboard(web_stop) if settings.web.in_daemon else None
        scheduler = self._scheduler(settings)
        scheduler.start()
        refilling = asyncio.create_task(self.refill(stop), name="refill")
        log.info(
            "daemon started",
            extra={"owner": self.app.owner, "feeds": len(settings.feeds)},
        )
        try:
            await stop.wait()
        finally:
            async with self._dispatching:  # no dispatch tick is half done
                self._stopping = True
                scheduler.shutdown(wait=False)  # cancels the jobs running (see `_job`)
                self._freed.set()  # lets the refill loop see `stop`
                refilling.cancel()
            web_stop.set()  # the dashboard closes while the rest winds down
            sent, cancelled = await asyncio.gather(
                self.sender.finish(SEND_GRACE), self.dispatcher.drain(STOP_GRACE)
            )
            if web is not None:
                await _closed(web)
            if cancelled:
                log.info("cancelled in-flight polls", extra={"count": cancelled})
            if not sent:
                log.warning("an alert was still being sent at shutdown; it keeps its lease")
            await asyncio.to_thread(self._release, release_deliveries=sent)
            log.info("daemon stopped", extra={"owner": self.app.owner})

    async def _dashboard(self, stop: asyncio.Event) -> "asyncio.Task[None]":
        """Serve the dashboard in this event loop until `stop` is set.

        Raises:
            ConfigError: it cannot listen where `web.listen` says (in use, or beyond
                loopback without a write token).
        """
        from monitor.web import create_app, serve  # Starlette and uvicorn: only when asked

        settings, rules = self.app.settings, self.app.rules
        app = create_app(
            settings,
            self.app.db,
            token=settings.web.token,
            rules=lambda: rules.current if rules else None,
        )
        listening: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def ready(_host: str, _port: int) -> None:
            if not listening.done():
                listening.set_result(None)

        task = asyncio.create_task(
            serve(app, settings.web.host, settings.web.port, stop, ready=ready)
        )
        await asyncio.wait({task, listening}, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            task.result()  # it could not listen: raise why
        return task

    def _scheduler(self, settings: Settings) -> AsyncIOScheduler:
        logging.getLogger("apscheduler").addFilter(_SkippedRunFilter())
        logging.getLogger("apscheduler.scheduler").addFilter(_SkippedRunFilter())
        scheduler = AsyncIOScheduler(timezone=UTC)
        now = datetime.now(UTC)
        every: list[tuple[Any, timedelta, str]] = [
            (self.dispatch, settings.schedule.tick, "dispatch"),
            (self.deliver, settings.alerts.tick, "deliver"),
            (self.housekeeping, HOUSEKEEPING_EVERY, "housekeeping"),
            (self.liveness, _liveness_every(settings), "liveness"),
        ]
        if self.app.rules is not None:
            every.append((self.reload_rules, RELOAD_EVERY, "reload-rules"))
        for job, interval, name in every:
            scheduler.add_job(
                self._job(job),
                "interval",
                id=name,
                seconds=interval.total_seconds(),
                next_run_time=now,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=None,
            )
        for target, trigger in digest_triggers(settings.targets).items():
            scheduler.add_job(
                self._job(self.digest),
                trigger,
                args=[target],
                id=f"digest:{target}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=3600,
            )
        return scheduler

    def _job(
        self, work: Callable[..., Coroutine[Any, Any, None]]
    ) -> Callable[..., Coroutine[Any, Any, None]]:
        """`work` as a scheduled job: a run that stopping the daemon cancels ends quietly
        (APScheduler would log the cancellation it was told to make as the job's error)."""

        async def run(*args: Any) -> None:
            try:
                await work(*args)
            except asyncio.CancelledError:
                if not self._stopping:
                    raise

        return run

    async def dispatch(self) -> None:
        """Beat, then lease as many due feeds as there are free workers and poll them."""
        await self._beat_safely()
        await self._fill()

    async def refill(self, stop: asyncio.Event) -> None:
        """Fill each worker a finished poll frees, until `stop` is set."""
        while not stop.is_set():
            await self._freed.wait()
            self._freed.clear()
            if not stop.is_set():
                await self._fill()

    async def _fill(self) -> None:
        async with self._dispatching:
            try:
                await self.dispatcher.fill()
            except StoreError as exc:
                log.error("dispatch failed", extra={"error": str(exc)})

    async def _beat_safely(self) -> None:
        try:
            await self._beat()
        except StoreError as exc:
            log.error("heartbeat failed", extra={"error": str(exc)})

    async def deliver(self) -> None:
        """Send the alerts that are due."""
        try:
            await self.sender.send_due()
        except StoreError as exc:
            log.error("delivery failed", extra={"error": str(exc)})

    async def digest(self, target: str) -> None:
        """Send a digest target's pending alerts as one message."""
        try:
            count = await self.sender.send_digest(target)
        except StoreError as exc:
            log.error("digest failed", extra={"target": target, "error": str(exc)})
            return
        if count:
            log.info("digest sent", extra={"target": target, "alerts": count})

    async def housekeeping(self) -> None:
        """Delete what has aged out (`retention:`)."""
        try:
            await upkeep.prune(self.app)
        except StoreError as exc:
            log.error("housekeeping failed", extra={"error": str(exc)})

    async def liveness(self) -> None:
        """Free dead daemons' leases; queue feed health and spike notices."""
        try:
            await upkeep.reap(self.app)
            await upkeep.check_feeds(self.app)
            await upkeep.check_spikes(self.app)
        except StoreError as exc:
            log.error("liveness check failed", extra={"error": str(exc)})

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

    async def _beat(self) -> None:
        await asyncio.to_thread(
            store.beat,
            self.app.db,
            self.app.owner,
            self._host,
            os.getpid(),
            __version__,
            self.app.clock(),
        )

    def _release(self, *, release_deliveries: bool) -> None:
        owner = self.app.owner
        try:
            released = store.release_leases(self.app.db, owner)
            if release_deliveries:
                store.release_deliveries(self.app.db, [owner])
            store.forget(self.app.db, owner)
        except StoreError as exc:
            log.error("could not release leases", extra={"error": str(exc)})
            return
        if released:
            log.info("leases released", extra={"count": released})


async def _closed(web: "asyncio.Task[None]") -> None:
    try:
        await asyncio.wait_for(web, STOP_GRACE)
    except Exception:  # a dashboard that fails to close must not keep leases held
        log.exception("the dashboard did not close cleanly")


def _liveness_every(settings: Settings) -> timedelta:
    low, high = LIVENESS_EVERY
    return min(high, max(low, settings.schedule.tick * 6))


def digest_triggers(targets: Sequence[TargetConfig]) -> dict[str, BaseTrigger]:
    """The trigger of every digest target (checked at load by `check_digests`)."""
    triggers: dict[str, BaseTrigger] = {}
    for target in targets:
        digest = target.digest
        if target.mode != "digest" or digest is None:
            continue
        if digest.every is not None:
            triggers[target.name] = IntervalTrigger(
                seconds=digest.every.total_seconds(), timezone=digest.timezone
            )
        elif digest.cron is not None:
            triggers[target.name] = CronTrigger.from_crontab(digest.cron, timezone=digest.timezone)
    return triggers


def check_digests(settings: Settings) -> list[tuple[Loc, str]]:
    """A problem for each digest cron APScheduler cannot run (for `load_settings`)."""
    problems: list[tuple[Loc, str]] = []
    for i, target in enumerate(settings.targets):
        digest = target.digest
        if target.mode != "digest" or digest is None or digest.cron is None:
            continue
        try:
            CronTrigger.from_crontab(digest.cron, timezone=digest.timezone)
        except ValueError as exc:
            loc: Loc = ("targets", i, "digest", "cron")
            problems.append((loc, f"targets[{i}].digest.cron: {exc} (got '{digest.cron}')"))
    return problems


def next_digest(target: TargetConfig, after: datetime) -> datetime | None:
    """When the digest of `target` next goes out after `after` (for tests and the CLI)."""
    trigger = digest_triggers([target]).get(target.name)
    fire: datetime | None = trigger.get_next_fire_time(None, after) if trigger else None
    return fire


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
