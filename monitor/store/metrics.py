"""The numbers /metrics exposes, read from the database at scrape time, so every process
that serves them (`monitor web`, the daemon) reports the same: polls and their durations in
a recent window, items per feed, matches per rule, deliveries per status, feed freshness."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func
from sqlmodel import col, select

from monitor.store.database import Database
from monitor.store.tables import DeliveryRow, FeedRow, MatchRow, PollRow


@dataclass(frozen=True, slots=True)
class FeedFreshness:
    name: str
    status: str
    last_success_at: datetime | None
    failures: int


@dataclass(frozen=True, slots=True)
class Numbers:
    """One scrape's worth of numbers."""

    polls: dict[str, int]  # outcome -> polls started since the window's start
    duration_buckets: tuple[tuple[int, int], ...]  # (upper bound ms, polls at or below it)
    duration_count: int
    duration_sum_ms: int
    items: dict[str, int]  # feed -> stored items
    matches: dict[str, int]  # rule -> stored matches
    deliveries: dict[str, int]  # status -> deliveries
    feeds: tuple[FeedFreshness, ...]


def scrape_numbers(db: Database, since: datetime, bounds_ms: Sequence[int]) -> Numbers:
    """The numbers of this moment; polls counted from `since`, durations bucketed at
    `bounds_ms` (ascending, cumulative as Prometheus histograms are)."""
    recent = col(PollRow.started_at) >= since
    buckets = [func.sum(case((col(PollRow.duration_ms) <= b, 1), else_=0)) for b in bounds_ms]
    with db.reading() as session:
        polls = session.exec(
            select(PollRow.outcome, func.count()).where(recent).group_by(col(PollRow.outcome))
        ).all()
        totals = session.exec(
            select(func.count(), func.coalesce(func.sum(PollRow.duration_ms), 0), *buckets).where(
                recent
            )
        ).one()
        matches = session.exec(
            select(MatchRow.rule_id, func.count()).group_by(col(MatchRow.rule_id))
        ).all()
        deliveries = session.exec(
            select(DeliveryRow.status, func.count()).group_by(col(DeliveryRow.status))
        ).all()
        feeds = session.exec(select(FeedRow)).all()
    count, total_ms, *cumulative = tuple(totals)
    return Numbers(
        polls={outcome: int(n) for outcome, n in polls},
        duration_buckets=tuple(
            (b, int(n or 0)) for b, n in zip(bounds_ms, cumulative, strict=True)
        ),
        duration_count=int(count),
        duration_sum_ms=int(total_ms),
        items={f.name: f.item_count for f in feeds if f.item_count},  # kept by each poll
        matches={rule: int(n) for rule, n in matches},
        deliveries={status: int(n) for status, n in deliveries},
        feeds=tuple(
            FeedFreshness(f.name, f.status, f.last_success_at, f.consecutive_failures)
            for f in sorted(feeds, key=lambda f: f.name)
            if f.active
        ),
    )
