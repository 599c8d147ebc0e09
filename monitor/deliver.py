"""The sender: takes due deliveries from the outbox, renders them, sends them, records how it
went. Retries back off exponentially; a delivery still failing after the cut-off is marked
dead and logged as an error, never dropped silently.

Exactly-once is impossible across a crash between the target accepting a message and the
attempt being recorded; that window is one `notify()` call plus one small transaction. A crash
there resends the alert once after the lease (2 minutes) runs out: at-least-once, by design.
A crash anywhere else loses nothing and sends nothing twice.
"""

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from monitor import store
from monitor.alert import Notifier
from monitor.config import AlertSettings
from monitor.render import Renderer
from monitor.ruleset import RuleSet

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=2)
BATCH = 20


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
    ) -> None:
        self.db, self.notifiers, self.settings = db, notifiers, settings
        self.owner, self.clock, self.rules = owner, clock, rules
        self.renderer = Renderer(settings.templates_dir)

    async def send_due(self) -> int:
        """Attempt every due delivery once. Returns how many were sent."""
        now = self.clock()
        due = await asyncio.to_thread(
            store.claim_due_deliveries, self.db, self.owner, now, LEASE, BATCH
        )
        if not due:
            return 0
        silences = await asyncio.to_thread(store.active_silences, self.db, now)
        sent = 0
        for item in due:
            sent += await self._attempt(item, silences)
        return sent

    async def _attempt(self, item: store.Due, silences: list[store.Silence]) -> int:
        alert = item.alert
        now = self.clock()
        silence = next((s for s in silences if s.rule in (None, alert.rule)), None)
        if silence is not None:
            reason = f"silenced until {silence.until:%Y-%m-%d %H:%M}Z: {silence.reason}"
            await asyncio.to_thread(store.mark, self.db, alert.delivery_id, "silenced", reason)
            return 0
        notifier = self.notifiers.get(alert.target)
        if notifier is None:
            await self._failed(item, now, f"no target named '{alert.target}' in the config")
            return 0
        ruleset = self.rules()
        if ruleset is not None and any(r.id == alert.rule for r in ruleset.rules):
            alert = replace(alert, rule_title=ruleset.rule(alert.rule).title)
        message = self.renderer.render(alert, notifier.kind)
        result = await asyncio.to_thread(notifier.send, message)
        if result.ok:
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
            return 1
        await self._failed(item, now, result.detail)
        return 0

    async def _failed(self, item: store.Due, now: datetime, error: str) -> None:
        alert = item.alert
        if now - item.created_at >= self.settings.cutoff:
            await asyncio.to_thread(
                store.record_attempt,
                self.db,
                alert.delivery_id,
                now,
                ok=False,
                error=error,
                status="dead",
            )
            log.error(
                "alert dead",
                extra={
                    "target": alert.target,
                    "rule": alert.rule,
                    "delivery": alert.delivery_id,
                    "error": error,
                    "attempts": item.attempts + 1,
                },
            )
            return
        retry_at = now + self.backoff(item.attempts + 1)
        await asyncio.to_thread(
            store.record_attempt,
            self.db,
            alert.delivery_id,
            now,
            ok=False,
            error=error,
            retry_at=retry_at,
        )
        log.warning(
            "alert not delivered",
            extra={
                "target": alert.target,
                "rule": alert.rule,
                "delivery": alert.delivery_id,
                "error": error,
                "retry_at": retry_at.isoformat(),
            },
        )

    def backoff(self, attempts: int) -> timedelta:
        """first_retry, doubled per failed attempt, up to max_retry."""
        grown: timedelta = self.settings.first_retry * (2 ** min(max(attempts - 1, 0), 20))
        return min(grown, self.settings.max_retry)
