"""`poll_feed`: fetch → parse → normalize → (match) → store for one feed.

The daemon, `monitor poll` and the tests all call this one function. It is the single
place where one feed's failure is caught and recorded, so it never reaches other feeds.
"""

import asyncio
import hashlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from monitor import store
from monitor.alerts.route import route
from monitor.app import App
from monitor.backoff import backoff
from monitor.engine.match import match_items
from monitor.engine.ruleset import RuleSet
from monitor.errors import FeedGone, FetchError, ParseError, PollTimeout, RateLimited
from monitor.model import FeedState, Match, PollReport, PollResult
from monitor.reading import RulesRef, read_and_match
from monitor.redact import redact_url
from monitor.settings import FeedConfig, TargetConfig

log = logging.getLogger(__name__)

# Retry-After values beyond this are treated as this (a misconfigured server must not
# silence a feed for a month).
MAX_RETRY_AFTER = timedelta(days=1)


async def poll_feed(app: App, feed: FeedConfig, state: FeedState) -> PollReport:
    """Poll one feed now and store what it yields.

    Raises:
        StoreError: the result could not be stored (the lease expires and the feed is retried).
    """
    started = app.clock()
    try:
        result = await _poll(app, feed, state, started)
    except Exception as exc:  # a bug on one hostile feed must not stop the daemon
        log.exception("poll crashed", extra={"feed": feed.name})
        result = _failed(app, feed, state, started, exc)
    new_keys = set(await asyncio.to_thread(store.save_poll, app.db, result, app.owner, app.filing))
    matched = [m for m in result.matches if m.item_key in new_keys]
    report = PollReport(
        feed=feed.name,
        outcome=result.outcome,
        items_seen=len(result.items),
        items_new=len(new_keys),
        duration=result.duration,
        matches_new=len(matched),
        error_kind=result.error_kind,
        error=result.error,
        http_status=result.http_status,
    )
    titles = {item.key: item.title for item in result.items}
    for m in matched:
        log.info(
            "match",
            extra={
                "feed": feed.name,
                "rule": m.rule,
                "rule_level": m.level,
                "score": m.score,
                "title": titles.get(m.item_key, ""),
            },
        )
    _log(report, state, result)
    return report


async def _poll(app: App, feed: FeedConfig, state: FeedState, started: datetime) -> PollResult:
    try:
        fetched = await app.fetcher.fetch(state.url, state.validators)
    except FetchError as exc:
        return _failed(app, feed, state, started, exc)
    done = PollResult(
        feed_id=state.id,
        started_at=started,
        finished_at=app.clock(),
        outcome="not-modified",
        next_poll_at=started + feed.every,
        http_status=fetched.status,
        validators=fetched.validators,
    )
    if fetched.body is None:
        return done
    body_hash = hashlib.sha256(fetched.body).hexdigest()
    if body_hash == state.body_hash:
        return replace(done, outcome="unchanged", body_bytes=len(fetched.body))
    budget = app.settings.http.total_timeout - (app.clock() - started)
    book = app.rules
    ref = RulesRef(book.rules_dir, book.seeds_dir, book.current.version) if book else None
    try:
        parsed, items, found = await app.readers.run(
            read_and_match,
            (fetched.body, dict(fetched.headers)),
            {"url": fetched.url, "language": feed.language, "fetched_at": started, "rules": ref},
            max(budget.total_seconds(), 0.1),
        )
    except (ParseError, PollTimeout) as exc:
        return _failed(app, feed, state, started, exc, fetched.status)
    ruleset = book.current if book else None
    if ruleset is not None and found is None:  # the reader had other rules: match here
        found = tuple(await asyncio.to_thread(match_items, ruleset, items))
    matches = _routed(ruleset, found or (), app.settings.targets) if ruleset else ()
    return replace(
        done,
        outcome="ok",
        finished_at=app.clock(),
        body_hash=body_hash,
        body_bytes=len(fetched.body),
        items=items,
        matches=matches,
        story_window=app.settings.alerts.story_window,
        bozo=parsed.bozo,
        feed_title=parsed.title,
    )


def _routed(
    ruleset: RuleSet, matches: Sequence[Match], targets: Sequence[TargetConfig]
) -> tuple[Match, ...]:
    """`matches`, each routed to its targets and carrying its rule's title (a rule the live
    set no longer has is dropped: it was removed while the reader matched)."""
    found = []
    for match in matches:
        rule = ruleset.get(match.rule)
        if rule is not None:
            found.append(replace(match, targets=route(rule, targets), rule_title=rule.title))
    return tuple(found)


def _failed(
    app: App,
    feed: FeedConfig,
    state: FeedState,
    started: datetime,
    exc: Exception,
    status: int | None = None,
) -> PollResult:
    if isinstance(exc, FetchError | ParseError):
        kind, message = exc.kind, str(exc)
    else:
        kind, message = "internal", f"internal error: {exc!r}"
    failures = state.consecutive_failures + 1
    # a cap set below the feed's own interval must not make a failing feed poll faster
    delay = max(feed.every, backoff(feed.every, failures, app.settings.schedule.max_backoff))
    if isinstance(exc, RateLimited) and exc.retry_after is not None:
        delay = max(delay, min(timedelta(seconds=exc.retry_after), MAX_RETRY_AFTER))
    return PollResult(
        feed_id=state.id,
        started_at=started,
        finished_at=app.clock(),
        outcome="gone" if isinstance(exc, FeedGone) else "error",
        next_poll_at=started + delay,
        http_status=exc.status if isinstance(exc, FetchError) else status,
        error_kind=kind,
        error=message,
    )


def _log(report: PollReport, state: FeedState, result: PollResult) -> None:
    fields = {
        "feed": report.feed,
        "outcome": report.outcome,
        "new": report.items_new,
        "seen": report.items_seen,
        "ms": round(report.duration.total_seconds() * 1000),
    }
    if result.bozo:
        fields["bozo"] = result.bozo
    if report.error:
        fields |= {
            "kind": report.error_kind,
            "error": report.error,
            "url": redact_url(state.url),
            "retry_at": result.next_poll_at.isoformat(),
        }
        log.warning("poll failed", extra=fields)
    else:
        log.info("poll done", extra=fields)
