"""Daemon heartbeats and the health verdict that `monitor health` and compose rely on."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import col, select

from monitor.store.database import Database
from monitor.store.tables import DaemonRow, FeedRow


@dataclass(frozen=True, slots=True)
class Health:
    """Whether polling works, and the reasons when it does not."""

    healthy: bool
    problems: tuple[str, ...]
    daemons: tuple[str, ...]  # owners with a fresh heartbeat
    feeds_ok: int
    feeds_failing: int
    feeds_overdue: int


def beat(db: Database, owner: str, host: str, pid: int, version: str, now: datetime) -> None:
    """Record that `owner` is alive (insert on first beat, update after)."""
    with db.session() as session:
        row = session.get(DaemonRow, owner)
        if row is None:
            row = DaemonRow(
                owner=owner, host=host, pid=pid, version=version, started_at=now, heartbeat_at=now
            )
        row.heartbeat_at = now
        session.add(row)


@dataclass(frozen=True, slots=True)
class DaemonView:
    """A daemon's heartbeat row: who it is, where it runs, when it last beat."""

    owner: str
    host: str
    pid: int
    version: str
    started_at: datetime
    heartbeat_at: datetime


def list_daemons(db: Database) -> list[DaemonView]:
    with db.reading() as session:
        return [
            DaemonView(r.owner, r.host, r.pid, r.version, r.started_at, r.heartbeat_at)
            for r in session.exec(select(DaemonRow).order_by(col(DaemonRow.started_at)))
        ]


def forget(db: Database, *owners: str) -> None:
    """Remove the heartbeats of `owners` (a clean shutdown, or daemons found dead)."""
    with db.session() as session:
        session.execute(delete(DaemonRow).where(col(DaemonRow.owner).in_(owners)))


def check_health(db: Database, now: datetime, stale_after: timedelta) -> Health:
    """Healthy when a daemon beat within `stale_after`, no active feed is overdue by more
    than `stale_after`, and not every polled feed is failing."""
    with db.reading() as session:
        beats = session.exec(select(DaemonRow)).all()
        feeds = session.exec(select(FeedRow).where(col(FeedRow.active))).all()
    alive = tuple(b.owner for b in beats if now - b.heartbeat_at <= stale_after)
    failing = [f for f in feeds if f.status in ("error", "gone")]
    ok = [f for f in feeds if f.status == "ok"]
    overdue = [f for f in feeds if f.status != "gone" and now - f.next_poll_at > stale_after]
    problems: list[str] = []
    if not alive:
        problems.append(f"no daemon heartbeat within {stale_after.total_seconds():g}s")
    if overdue:
        names = ", ".join(f.name for f in overdue[:5])
        problems.append(f"{len(overdue)} feed(s) overdue: {names}")
    if feeds and failing and not ok:
        problems.append(f"every polled feed is failing ({len(failing)})")
    return Health(
        healthy=not problems,
        problems=tuple(problems),
        daemons=alive,
        feeds_ok=len(ok),
        feeds_failing=len(failing),
        feeds_overdue=len(overdue),
    )
