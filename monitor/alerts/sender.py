"""The sender: takes due deliveries from the outbox, renders them, sends them, records how it
went. Retries back off exponentially; a delivery still failing after the cut-off is marked
dead and logged as an error, never dropped silently. Silences close a delivery as
`silenced`, a rule's re-alert window as `suppressed`; quiet hours hold it until they end.
Digest targets get one message per run of their schedule.

Exactly-once is impossible across a crash between the target accepting a message and the
attempt being recorded; that window is one `notify()` call plus one small transaction. A crash
there resends the alert once after the lease (2 minutes) runs out: at-least-once, by design.
A crash anywhere else loses nothing and sends nothing twice.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from monitor import store
from monitor.alerts.notify import Notifier
from monitor.alerts.policy import Verdict, judge, realert_since
from monitor.alerts.render import Renderer
from monitor.backoff import backoff
from monitor.config import AlertSettings, TargetConfig
from monitor.engine.ruleset import Rule, RuleSet
from monitor.model import Alert

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BATCH = 20
DIGEST_BATCH = 500


class Sender:
    """Sends due alerts through the configured notifiers."""

    def __init__(
        self,
        db: store.Database,
        notifiers: Mapping[str, Notifier],
        settings: AlertSettings,
        owner: str,
        clock: Callable[[], datetime],
        rules: Callable[[], RuleSet | None] = lambda: None,
        targets: Sequence[TargetConfig] = (),
    ) -> None:
        self.db, self.notifiers, self.settings = db, notifiers, settings
        self.owner, self.clock, self.rules = owner, clock, rules
        self.targets = {t.name: t for t in targets}
        self.renderer = Renderer(settings.templates_dir)

    async def send_due(self) -> int:
        """Attempt due immediate deliveries (up to BATCH). Returns how many were sent.

        Each delivery is leased just before its attempt, so a crash leaves at most the one
        in flight leased (free again after LEASE); the rest stay free for the next sender.
        """
        digests = tuple(n for n, t in self.targets.items() if t.mode == "digest")
        sent = 0
        for _ in range(BATCH):
            now = self.clock()
            due = await asyncio.to_thread(
                store.claim_due_deliveries, self.db, self.owner, now, LEASE, 1, skip=digests
            )
            if not due:
                break
            for ready in await self._screen(due, now):
                sent += await self._send_one(ready)
        return sent

    async def send_digest(self, target: str) -> int:
        """Send every pending delivery of a digest target as one message. Returns how many."""
        now = self.clock()
        due = await asyncio.to_thread(
            store.claim_due_deliveries, self.db, self.owner, now, LEASE, DIGEST_BATCH, only=target
        )
        ready = await self._screen(due, now)
        notifier = self.notifiers.get(target)
        if not ready or notifier is None:
            return 0
        message = self.renderer.render_digest([i.alert for i in ready], notifier.kind)
        result = await asyncio.to_thread(notifier.send, message)
        for item in ready:
            if result.ok:
                await self._record_sent(item.alert, now)
            else:
                await self._failed(item, now, result.detail)
        return len(ready) if result.ok else 0

    async def _screen(self, due: list[store.Due], now: datetime) -> list[store.Due]:
        """Drop what is silenced or within its rule's re-alert window; hold what falls in
        quiet hours. Returns the deliveries to send now, with their rule titles."""
        if not due:
            return []
        silences = await asyncio.to_thread(store.active_silences, self.db, now)
        ruleset = self.rules()
        ready = []
        for item in due:
            rule = ruleset.get(item.alert.rule) if ruleset else None
            verdict = await self._verdict(item.alert, rule, silences, now)
            if verdict is not None:
                await asyncio.to_thread(
                    store.mark,
                    self.db,
                    item.alert.delivery_id,
                    verdict.status,
                    verdict.reason,
                    verdict.until,
                )
            else:
                titled = replace(item.alert, rule_title=rule.title) if rule else item.alert
                ready.append(replace(item, alert=titled))
        return ready

    async def _verdict(
        self, alert: Alert, rule: Rule | None, silences: list[store.Silence], now: datetime
    ) -> Verdict | None:
        since = realert_since(rule, now)
        recent = since is not None and await asyncio.to_thread(
            store.sent_since, self.db, alert.rule, alert.target, since
        )
        target = self.targets.get(alert.target)
        return judge(alert, rule, target, silences, now, sent_recently=recent)

    async def _send_one(self, item: store.Due) -> int:
        alert = item.alert
        now = self.clock()
        notifier = self.notifiers.get(alert.target)
        if notifier is None:
            await self._failed(item, now, f"no target named '{alert.target}' in the config")
            return 0
        result = await asyncio.to_thread(notifier.send, self.renderer.render(alert, notifier.kind))
        if result.ok:
            await self._record_sent(alert, now)
            return 1
        await self._failed(item, now, result.detail)
        return 0

    async def _record_sent(self, alert: Alert, now: datetime) -> None:
        await asyncio.to_thread(store.record_attempt, self.db, alert.delivery_id, now, ok=True)
        log.info(
            "alert sent",
            extra={
                "target": alert.target,
                "rule": alert.rule,
                "delivery": alert.delivery_id,
                "title": alert.title,
            },
        )

    async def _failed(self, item: store.Due, now: datetime, error: str) -> None:
        alert = item.alert
        dead = now - item.created_at >= self.settings.cutoff
        retry_at = None
        if not dead:
            retry_at = now + backoff(
                self.settings.first_retry, item.attempts + 1, self.settings.max_retry
            )
        await asyncio.to_thread(
            store.record_attempt,
            self.db,
            alert.delivery_id,
            now,
            ok=False,
            error=error,
            retry_at=retry_at,
            status="dead" if dead else None,
        )
        fields = {
            "target": alert.target,
            "rule": alert.rule,
            "delivery": alert.delivery_id,
            "error": error,
        }
        if retry_at is None:
            log.error("alert dead", extra=fields | {"attempts": item.attempts + 1})
        else:
            log.warning("alert not delivered", extra=fields | {"retry_at": retry_at.isoformat()})
