"""Upkeep the daemon does on a timer, besides polling and sending: freeing the leases of
daemons that died, feed health notices, and deleting what has aged out. Each job is a
function of the `App`, so tests and commands can run one on its own."""

import asyncio
import logging
import os
import socket
from dataclasses import asdict
from datetime import datetime

from monitor import store
from monitor.alerts.health import health_changes
from monitor.alerts.route import LOG_TARGET
from monitor.app import App
from monitor.processes import process_alive
from monitor.settings import Settings

log = logging.getLogger(__name__)


async def reap(app: App) -> list[str]:
    """Free the leases of daemons that are certainly dead and forget them: on this host, a
    PID that no longer runs (or is ours: a container restarts as PID 1); anywhere, a
    heartbeat silent for longer than any lease. Returns their names."""
    now, settings, host = app.clock(), app.settings, socket.gethostname()
    silent = 2 * max(settings.schedule.lease, settings.alerts.lease)
    daemons = await asyncio.to_thread(store.list_daemons, app.db)
    dead = [
        d.owner
        for d in daemons
        if d.owner != app.owner
        and (
            now - d.heartbeat_at > silent
            or (d.host == host and (d.pid == os.getpid() or not process_alive(d.pid, d.started_at)))
        )
    ]
    if dead:
        feeds = await asyncio.to_thread(store.release_leases, app.db, *dead)
        deliveries = await asyncio.to_thread(store.release_deliveries, app.db, dead)
        await asyncio.to_thread(store.forget, app.db, *dead)
        log.warning(
            "freed the leases of dead daemons",
            extra={"daemons": ", ".join(dead), "feeds": feeds, "deliveries": deliveries},
        )
    return dead


async def check_feeds(app: App) -> None:
    """Queue a notice for each feed that went down (failing for `feed_health.after`, or
    gone) or came back."""
    settings, now = app.settings, app.clock()
    targets = settings.feed_health.notify or (() if settings.targets else (LOG_TARGET,))
    feeds = await asyncio.to_thread(store.feed_health, app.db)
    for change in health_changes(feeds, now, settings.feed_health.after, targets):
        await asyncio.to_thread(
            store.file_feed_notices, app.db, change.feed_id, change.alerted_at, change.notices, now
        )
        title = change.notices[0].notice.title if change.notices else f"feed {change.feed_id}"
        level = logging.WARNING if change.alerted_at else logging.INFO
        log.log(level, "feed health", extra={"notice": title, "targets": len(targets)})


async def prune(app: App) -> store.Pruned:
    """Delete what `retention:` says has aged out."""
    pruned = await asyncio.to_thread(
        store.prune, app.db, retention_cutoffs(app.settings, app.clock())
    )
    if pruned.total:
        log.info("pruned", extra=asdict(pruned))
    return pruned


def retention_cutoffs(settings: Settings, now: datetime) -> store.Cutoffs:
    """What `retention:` says is old enough to go, at `now`."""
    keep = settings.retention
    return store.Cutoffs(
        items=now - keep.items,
        matches=now - keep.matches,
        deliveries=now - keep.deliveries,
        polls=now - keep.polls,
    )
