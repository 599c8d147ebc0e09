"""The sender's promises that need no daemon: retries count from the end of an attempt, a
started attempt is recorded even when its coroutine is cancelled, notices reach their target
with their own message."""

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta

from monitor import store
from monitor.alerts.notify import Sent, build_notifiers
from monitor.alerts.render import Message
from monitor.alerts.sender import Sender
from monitor.model import Notice
from monitor.settings import AlertSettings, Settings, TargetConfig
from monitor.store import Database
from tests.receivers import WebhookServer

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class SlowRefusal:
    """A target that takes `seconds` of (test) time to refuse, as a throttled one does."""

    name, kind = "ops", "text"

    def __init__(self, clock: Clock, seconds: float) -> None:
        self.clock, self.seconds, self.sent = clock, seconds, 0

    def send(self, message: Message) -> Sent:
        self.sent += 1
        self.clock.now += timedelta(seconds=self.seconds)
        return Sent(False, "connection refused")

    def describe(self) -> list[str]:
        return ["slow"]


def notice() -> Notice:
    return Notice(0, "", "feed-down", "medium", "feed wire is failing", ("Failing since x",))


def test_the_retry_counts_from_the_end_of_a_slow_attempt(db: Database) -> None:
    clock = Clock()
    store.enqueue_notice(db, "n1", "ops", notice(), START)
    target = SlowRefusal(clock, 100)
    sender = Sender(
        db, {"ops": target}, Settings(alerts=AlertSettings(first_retry="30s")), "me", clock
    )

    asyncio.run(sender.send_due())

    [view] = store.list_deliveries(db, 5)
    assert target.sent == 1 and view.attempts == 1
    assert view.next_attempt_at == START + timedelta(seconds=130)


def test_an_attempt_is_recorded_even_when_its_coroutine_is_cancelled(db: Database) -> None:
    # Given a send that is under way when the daemon cancels the sender
    hook = WebhookServer()
    hook.start()
    store.enqueue_notice(db, "n1", "ops", notice(), datetime.now(UTC))
    notifiers = build_notifiers((TargetConfig(name="ops", urls=(hook.url(),)),))
    slow = notifiers["ops"]
    original = slow.send
    started = threading.Event()

    def send_slowly(message: Message) -> Sent:
        started.set()
        time.sleep(1.0)
        return original(message)

    slow.send = send_slowly  # type: ignore[method-assign]
    sender = Sender(db, notifiers, Settings(), "me", lambda: datetime.now(UTC))

    async def cancel_midway() -> bool:
        task = asyncio.create_task(sender.send_due())
        while not started.is_set() and not task.done():
            await asyncio.sleep(0.01)
        task.cancel()
        return await sender.finish(5.0)

    # When it is cancelled midway
    try:
        finished = asyncio.run(cancel_midway())
    finally:
        hook.stop()

    # Then the message went out once and is recorded as sent: a restart sends nothing more
    assert finished and len(hook.received) == 1
    assert [v.status for v in store.list_deliveries(db, 5)] == ["sent"]


def test_a_notice_reaches_its_target_with_its_own_message(db: Database) -> None:
    hook = WebhookServer()
    hook.start()
    store.enqueue_notice(db, "n1", "ops", notice(), START)
    notifiers = build_notifiers((TargetConfig(name="ops", urls=(hook.url(),)),))
    try:
        sent = asyncio.run(Sender(db, notifiers, Settings(), "me", Clock()).send_due())
    finally:
        hook.stop()

    assert sent == 1
    body = hook.received[0].json()
    assert body["title"] == "[MEDIUM] monitor: feed wire is failing"
    assert "Failing since x" in body["message"]
