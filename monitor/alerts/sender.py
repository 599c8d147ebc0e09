"""The sender: takes due deliveries from the outbox, renders them, sends them, records how it
went. Retries back off exponentially, counted from the end of the failed attempt; a delivery
still failing after the cut-off is marked dead and logged as an error, never dropped
silently. Silences close a delivery as `silenced`, a rule's re-alert window as `suppressed`;
quiet hours hold it until they end. Digest targets get one message per run of their
schedule; notices (a feed down or back) are never held for a digest.

Each attempt (send, then record) runs to its end in a thread of its own, whatever happens to
the coroutine that started it: a daemon stopping mid-send still records the send, so the
alert is not sent again after a restart. Exactly-once is still impossible across a crash
(SIGKILL, power loss) between the target accepting a message and the attempt being recorded;
that window is one `notify()` call plus one small transaction, and a crash there resends the
alert once, as soon as the next daemon frees the dead one's lease: at-least-once, by design.
"""

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import partial
from typing import TypeVar

from monitor import store
from monitor.alerts.notify import Notifier
from monitor.alerts.policy import Verdict, judge, realert_since
from monitor.alerts.render import Message, Renderer
from monitor.backoff import backoff
from monitor.engine.ruleset import Rule, RuleSet
from monitor.model import Alert, Notice
from monitor.settings import Settings

log = logging.getLogger(__name__)

BATCH = 20
DIGEST_BATCH = 500
T = TypeVar("T")


class Sender:
    """Sends due alerts through the configured notifiers."""

    def __init__(
        self,
        db: store.Database,
        notifiers: Mapping[str, Notifier],
        settings: Settings,
        owner: str,
        clock: Callable[[], datetime],
        rules: Callable[[], RuleSet | None] = lambda: None,
    ) -> None:
        """`settings` gives the retry policy (`alerts`), the targets' modes and quiet hours
        (`targets`) and where alerts link to (`web.base_url`)."""
        self.db, self.notifiers, self.settings = db, notifiers, settings.alerts
        self.owner, self.clock, self.rules = owner, clock, rules
        self.targets = {t.name: t for t in settings.targets}
        self.renderer = Renderer(settings.alerts.templates_dir, settings.web.base_url)
        self._stopping = False
        self._inflight: asyncio.Future[int] | None = None

    async def send_due(self) -> int:
        """Attempt due immediate deliveries (up to BATCH). Returns how many were sent.

        Each delivery is leased just before its attempt, so a crash leaves at most the one
        in flight leased; the rest stay free for the next sender.
        """
        digests = tuple(n for n, t in self.targets.items() if t.mode == "digest")
        sent = 0
        for _ in range(BATCH):
            if self._stopping:
                break
            now = self.clock()
            due = await self._claim(now, 1, skip=digests)
            if not due:
                break
            for ready in await self._screen(due, now):
                sent += await self._run(partial(self._attempt, ready))
        return sent

    async def send_digest(self, target: str) -> int:
        """Send every pending alert of a digest target as one message. Returns how many."""
        if self._stopping:
            return 0
        now = self.clock()
        ready = await self._screen(await self._claim(now, DIGEST_BATCH, only=target), now)
        if not ready:
            return 0
        return await self._run(partial(self._attempt_digest, target, ready))

    async def finish(self, grace: float) -> bool:
        """Take no more deliveries, and wait up to `grace` seconds for the one in flight to
        be sent and recorded. True when nothing is left in flight."""
        self._stopping = True
        if self._inflight is None or self._inflight.done():
            return True
        done, _ = await asyncio.wait({self._inflight}, timeout=grace)
        return bool(done)

    async def _claim(
        self, now: datetime, limit: int, *, skip: tuple[str, ...] = (), only: str | None = None
    ) -> list[store.Due]:
        """Lease up to `limit` due deliveries (of target `only`, or of all but `skip`)."""
        return await asyncio.to_thread(
            store.claim_due_deliveries,
            self.db,
            self.owner,
            now,
            self.settings.lease,
            limit,
            skip=skip,
            only=only,
        )

    async def _run(self, attempt: Callable[[], int]) -> int:
        self._inflight = _in_own_thread(attempt)
        return await asyncio.shield(self._inflight)

    async def _screen(self, due: list[store.Due], now: datetime) -> list[store.Due]:
        """Drop what is silenced or within its rule's re-alert window; hold what falls in
        quiet hours. Returns the deliveries to send now."""
        if not due:
            return []
        silences = await asyncio.to_thread(store.active_silences, self.db, now)
        ruleset = self.rules()
        ready = []
        for item in due:
            message = item.alert
            rule = ruleset.get(message.rule) if ruleset and isinstance(message, Alert) else None
            verdict = await self._verdict(message, rule, silences, now)
            if verdict is None:
                ready.append(item)
                continue
            await asyncio.to_thread(
                store.mark,
                self.db,
                message.delivery_id,
                verdict.status,
                verdict.reason,
                verdict.until,
            )
        return ready

    async def _verdict(
        self,
        message: Alert | Notice,
        rule: Rule | None,
        silences: list[store.Silence],
        now: datetime,
    ) -> Verdict | None:
        since = realert_since(rule, now)
        recent = (
            since is not None
            and rule is not None
            and await asyncio.to_thread(store.sent_since, self.db, rule.id, message.target, since)
        )
        target = self.targets.get(message.target)
        return judge(message, rule, target, silences, now, sent_recently=recent)

    # --- attempts: run in their own thread, from the send to its record -------------------

    def _attempt(self, item: store.Due) -> int:
        message = item.alert
        notifier = self.notifiers.get(message.target)
        if notifier is None:
            self._failed(item, self.clock(), f"no target named '{message.target}' in the config")
            return 0
        try:
            rendered = self._render(message, notifier.kind)
        except Exception as exc:  # a user's template must not stop the sender
            self._failed(item, self.clock(), f"cannot render the message: {exc}")
            return 0
        result = notifier.send(rendered)
        end = self.clock()
        if result.ok:
            self._record_sent(message, end)
            return 1
        self._failed(item, end, result.detail)
        return 0

    def _attempt_digest(self, target: str, ready: list[store.Due]) -> int:
        notifier = self.notifiers.get(target)
        alerts = [i.alert for i in ready if isinstance(i.alert, Alert)]
        if notifier is None:
            for item in ready:
                self._failed(item, self.clock(), f"no target named '{target}' in the config")
            return 0
        result = notifier.send(self.renderer.render_digest(alerts, notifier.kind))
        end = self.clock()
        for item in ready:
            if result.ok:
                self._record_sent(item.alert, end)
            else:
                self._failed(item, end, result.detail)
        return len(ready) if result.ok else 0

    def _render(self, message: Alert | Notice, kind: str) -> Message:
        if isinstance(message, Notice):
            return self.renderer.render_notice(message, kind)
        return self.renderer.render(message, kind)

    def _record_sent(self, message: Alert | Notice, now: datetime) -> None:
        store.record_attempt(self.db, message.delivery_id, now, ok=True)
        log.info(
            "alert sent",
            extra={
                "target": message.target,
                "rule": message.rule if isinstance(message, Alert) else message.kind,
                "delivery": message.delivery_id,
                "title": message.title,
            },
        )

    def _failed(self, item: store.Due, now: datetime, error: str) -> None:
        message = item.alert
        dead = now - item.pending_since >= self.settings.cutoff
        retry_at = None
        if not dead:
            wait = backoff(self.settings.first_retry, item.attempts + 1, self.settings.max_retry)
            retry_at = now + wait
        store.record_attempt(
            self.db,
            message.delivery_id,
            now,
            ok=False,
            error=error,
            retry_at=retry_at,
            status="dead" if dead else None,
        )
        fields = {
            "target": message.target,
            "rule": message.rule if isinstance(message, Alert) else message.kind,
            "delivery": message.delivery_id,
            "error": error,
        }
        if retry_at is None:
            log.error("alert dead", extra=fields | {"attempts": item.attempts + 1})
        else:
            log.warning("alert not delivered", extra=fields | {"retry_at": retry_at.isoformat()})


def _in_own_thread(work: Callable[[], T]) -> "asyncio.Future[T]":
    """Run `work` in a new daemon thread; its future settles when it ends.

    Unlike asyncio.to_thread, cancelling the awaiting coroutine never leaves the work
    half-observed: it always runs to its end (and records what it did). The thread is a
    daemon so that a send hanging past the shutdown grace cannot keep the process alive.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():
            outcome()

    def run() -> None:
        try:
            value = work()
        except BaseException as exc:
            outcome = partial(future.set_exception, exc)
        else:
            outcome = partial(future.set_result, value)
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle, outcome)

    threading.Thread(target=run, name="alert-attempt", daemon=True).start()
    return future
