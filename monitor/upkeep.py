"""Upkeep the daemon does on a timer, besides polling and sending: freeing the leases of
daemons that died, feed health notices, spike notices, and deleting what has aged out. Each job is a
function of the `App`, so tests and commands can run one on its own."""

import asyncio
import logging
import os
import socket
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime, timedelta

from monitor import store
from monitor.alerts.health import health_changes
from monitor.alerts.route import LOG_TARGET, route
from monitor.app import App
from monitor.engine.watches import Watch
from monitor.model import Notice
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


async def check_spikes(app: App) -> int:
    """Queue a notice for each spike rule whose series is far above its baseline today (UTC
    days), once per rule, day and target. Returns how many notices were new."""
    ruleset = app.rules.current if app.rules else None
    if ruleset is None or not ruleset.watches:
        return 0
    now = app.clock()
    today = now.date()
    first = today - timedelta(days=max(w.baseline for w in ruleset.watches))
    counted: Counter[tuple[str, date]] = Counter()
    for row in await asyncio.to_thread(store.daily_counts, app.db, first, today):
        counted[row.rule, row.day] = row.count
    queued = 0
    for watch in ruleset.watches:
        rules = (
            [watch.rule]
            if watch.rule is not None
            else [r.id for r in ruleset.rules if {r.a, r.b} == set(watch.dyad or ())]
        )
        days = [today - timedelta(days=n) for n in range(watch.baseline, -1, -1)]
        series = [sum(counted[rule, day] for rule in rules) for day in days]
        notice = spike_notice(watch, series, app.settings.web.base_url)
        if notice is None:
            continue
        for target in route(watch, app.settings.targets):
            key = f"spike:{watch.id}:{today.isoformat()}:{target}"
            if await asyncio.to_thread(store.enqueue_notice, app.db, key, target, notice, now):
                queued += 1
                log.warning(
                    "spike", extra={"rule": watch.id, "today": series[-1], "target": target}
                )
    return queued


def spike_notice(watch: Watch, series: Sequence[int], base_url: str | None) -> Notice | None:
    """The notice for `watch` when the last day of `series` (oldest first) is a spike."""
    today, history = series[-1], series[:-1]
    spike = watch.spike(today, history)
    if spike is None:
        return None
    lines = (
        f"{today} matches of {watch.watched} today (UTC), against {spike.baseline:.1f} a day "
        f"over the {len(history)} days before: {spike.ratio:.1f}× (p = {spike.p_value:.1g}).",
        "Matches per day, last 14 days: " + " ".join(str(n) for n in series[-14:]),
        f"Rule: {watch.title} ({watch.id})",
    )
    link = f"{base_url.rstrip('/')}/rules" if base_url else None
    return Notice(0, "", "spike", watch.level, f"spike in {watch.watched}", lines, link)


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
