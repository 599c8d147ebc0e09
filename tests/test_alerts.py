"""Alert delivery through real receivers: SMTP (aiosmtpd), an HTTP webhook, Slack's payload."""

import asyncio
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message as EmailMessage
from pathlib import Path

import apprise.plugins.slack as slack_plugin
import pytest

from monitor import store
from monitor.alerts.notify import build_notifiers
from monitor.alerts.sender import Sender
from monitor.app import open_app
from monitor.daemon import next_digest
from monitor.engine.rulebook import RuleBook
from monitor.errors import AlertError
from monitor.model import Alert, Evidence
from monitor.pipeline import poll_feed
from monitor.settings import AlertSettings, FeedConfig, Settings, TargetConfig
from monitor.store import Database
from tests.conftest import RULES_DIR
from tests.feedserver import FeedServer
from tests.receivers import SmtpServer, WebhookServer

START = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
SIGNAL = "Alphaland ships artillery to Betania"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    server = WebhookServer()
    server.start()
    yield server
    server.stop()


def rss(*items: tuple[str, str]) -> bytes:
    body = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title>"
        f"<link>https://news.example.org/{guid}</link>"
        "<description>Officials in Betopolis confirmed the shipment.</description></item>"
        for guid, title in items
    )
    return f"<rss version='2.0'><channel><title>t</title>{body}</channel></rss>".encode()


def serve(server: FeedServer, *items: tuple[str, str]) -> str:
    name = f"{uuid.uuid4().hex[:8]}.xml"
    server.set_feed(name, rss(*items))
    return server.url(f"/feeds/{name}")


def settings_with(targets: list[TargetConfig], *urls: str, **alerts: object) -> Settings:
    feeds = tuple(
        FeedConfig(name=f"f{i}", url=url, interval=timedelta(minutes=10))
        for i, url in enumerate(urls)
    )
    return Settings(feeds=feeds, targets=tuple(targets), alerts=AlertSettings(**alerts))


def poll_all(db: Database, settings: Settings, clock: Clock, rules_dir: Path = RULES_DIR) -> None:
    rules = RuleBook(rules_dir, rules_dir / "seeds", lambda: clock.now.date())

    async def go() -> None:
        async with open_app(settings, db=db, clock=clock, rules=rules) as app:
            store.sync_feeds(db, settings.feeds, clock.now)
            names = [f.name for f in settings.feeds]
            for state in store.claim_due_feeds(
                db, app.owner, clock.now, timedelta(minutes=5), len(names), names
            ):
                await poll_feed(app, settings.feed(state.name), state)

    asyncio.run(go())


def send(db: Database, settings: Settings, clock: Clock, rules_dir: Path = RULES_DIR) -> int:
    rules = RuleBook(rules_dir, rules_dir / "seeds", lambda: clock.now.date())
    sender = Sender(
        db, build_notifiers(settings.targets), settings, "test", clock, lambda: rules.current
    )
    return asyncio.run(sender.send_due())


def target(name: str, *urls: str, **extra: object) -> TargetConfig:
    return TargetConfig(name=name, urls=urls, **extra)


def test_an_email_alert_arrives_with_html_text_link_and_evidence(
    db: Database, feed_server: FeedServer, smtp: SmtpServer
) -> None:
    clock = Clock()
    settings = settings_with([target("mail", smtp.url())], serve(feed_server, ("a1", SIGNAL)))

    poll_all(db, settings, clock)
    sent = send(db, settings, clock)

    [message] = smtp.messages
    assert sent == 1
    assert message["Subject"] == f"[HIGH] alp-bet-arms: {SIGNAL}"
    parts = {
        p.get_content_type(): bytes(p.get_payload(decode=True)).decode()
        for p in message.walk()
        if not p.is_multipart()
    }
    assert "<mark>artillery</mark>" in parts["text/html"]
    assert 'href="https://news.example.org/a1"' in parts["text/html"]
    assert "artillery" in parts["text/plain"] and "Alphaland" in parts["text/plain"]


def test_a_webhook_alert_carries_title_and_body(
    db: Database, feed_server: FeedServer, webhook: WebhookServer
) -> None:
    clock = Clock()
    settings = settings_with([target("hook", webhook.url())], serve(feed_server, ("w1", SIGNAL)))

    poll_all(db, settings, clock)
    send(db, settings, clock)

    [call] = webhook.received
    payload = call.json()
    assert payload["title"] == f"[HIGH] alp-bet-arms: {SIGNAL}"
    assert (
        "[artillery]" in payload["message"] and "https://news.example.org/w1" in payload["message"]
    )


def test_slack_gets_its_own_payload_shape(
    db: Database,
    feed_server: FeedServer,
    webhook: WebhookServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Apprise's Slack plugin has its host fixed; point it at the local receiver (test only)
    monkeypatch.setattr(
        slack_plugin.NotifySlack, "webhook_url", f"http://127.0.0.1:{webhook.port}/slack/services"
    )
    clock = Clock()
    settings = settings_with(
        [target("slack", "slack://T0001/B0001/secrettoken123")], serve(feed_server, ("s1", SIGNAL))
    )

    poll_all(db, settings, clock)
    send(db, settings, clock)

    [call] = webhook.received
    assert call.path == "/slack/services/T0001/B0001/secrettoken123"
    text = json_text(call.json())
    assert "*HIGH*" in text and "<https://news.example.org/s1|" in text and "*artillery*" in text


def json_text(payload: dict[str, object]) -> str:
    return str(payload)


def test_a_receiver_that_is_down_gets_the_alert_once_it_is_back(
    db: Database, feed_server: FeedServer
) -> None:
    receiver = WebhookServer()  # not started: connection refused
    clock = Clock()
    settings = settings_with([target("hook", receiver.url())], serve(feed_server, ("d1", SIGNAL)))
    poll_all(db, settings, clock)

    first = send(db, settings, clock)
    [pending] = store.list_deliveries(db, 10)
    receiver.start()
    try:
        early = send(db, settings, clock)  # the retry is not due yet
        clock.now += timedelta(seconds=31)
        later = send(db, settings, clock)
        again = send(db, settings, clock)
    finally:
        receiver.stop()

    assert (first, early, later, again) == (0, 0, 1, 0)
    assert pending.status == "pending" and pending.attempts == 1 and pending.last_error
    assert len(receiver.received) == 1
    assert store.list_deliveries(db, 10)[0].status == "sent"


def test_a_target_that_always_fails_is_dead_after_the_cutoff(
    db: Database, feed_server: FeedServer, webhook: WebhookServer
) -> None:
    webhook.status = 500
    clock = Clock()
    settings = settings_with(
        [target("hook", webhook.url())],
        serve(feed_server, ("x1", SIGNAL)),
        cutoff=timedelta(minutes=10),
    )
    poll_all(db, settings, clock)

    for _ in range(20):  # retries after 30s, 1m, 2m, 4m, 8m: the sixth try is past the cutoff
        send(db, settings, clock)
        clock.now += timedelta(minutes=1)

    [delivery] = store.list_deliveries(db, 10)
    assert delivery.status == "dead" and delivery.attempts == 6
    assert store.list_deliveries(db, 10, status="dead")[0].id == delivery.id


def test_one_story_from_three_feeds_alerts_once_with_its_source_count(
    db: Database, feed_server: FeedServer, webhook: WebhookServer
) -> None:
    clock = Clock()
    copies = [
        serve(feed_server, ("c1", f"{SIGNAL}, officials say")),
        serve(feed_server, ("c2", f"Officials say {SIGNAL}")),
        serve(feed_server, ("c3", SIGNAL)),
    ]
    settings = settings_with([target("hook", webhook.url())], *copies)

    poll_all(db, settings, clock)
    send(db, settings, clock)

    assert len(webhook.received) == 1
    assert "3 outlets report this story" in webhook.received[0].json()["message"]
    assert len(store.recent_matches(db, 10)) == 3  # every copy is still recorded


def test_a_repoll_never_alerts_twice(
    db: Database, feed_server: FeedServer, webhook: WebhookServer
) -> None:
    clock = Clock()
    settings = settings_with([target("hook", webhook.url())], serve(feed_server, ("r1", SIGNAL)))
    poll_all(db, settings, clock)
    send(db, settings, clock)

    clock.now += timedelta(minutes=11)
    poll_all(db, settings, clock)
    send(db, settings, clock)

    assert len(webhook.received) == 1


def test_a_silenced_rule_is_not_sent_but_shown(
    db: Database, feed_server: FeedServer, webhook: WebhookServer
) -> None:
    clock = Clock()
    settings = settings_with([target("hook", webhook.url())], serve(feed_server, ("q1", SIGNAL)))
    store.add_silence(db, "alp-bet-arms", clock.now + timedelta(hours=4), "drill", clock.now)
    poll_all(db, settings, clock)

    send(db, settings, clock)

    [delivery] = store.list_deliveries(db, 10)
    assert webhook.received == []
    assert delivery.status == "silenced" and "drill" in (delivery.last_error or "")


def test_targets_filter_by_level_rule_and_tag(
    db: Database, feed_server: FeedServer, webhook: WebhookServer
) -> None:
    clock = Clock()
    settings = settings_with(
        [
            target("all", webhook.url("/all")),
            target("critical-only", webhook.url("/critical"), min_level="critical"),
            target("other-rule", webhook.url("/other"), rules=("pact-bet-statement",)),
            target("tagged", webhook.url("/tagged"), tags=("test",)),
        ],
        serve(feed_server, ("t1", SIGNAL)),
    )

    poll_all(db, settings, clock)
    send(db, settings, clock)

    assert sorted(r.path for r in webhook.received) == ["/all", "/tagged"]


def test_without_targets_alerts_go_to_the_log(
    db: Database, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    settings = settings_with([], serve(feed_server, ("l1", SIGNAL)))
    poll_all(db, settings, clock)

    with caplog.at_level("INFO", logger="monitor"):
        sent = send(db, settings, clock)

    assert sent == 1
    assert any(
        r.getMessage() == "alert" and SIGNAL in str(getattr(r, "title", "")) for r in caplog.records
    )


def test_quiet_hours_hold_alerts_and_send_them_when_they_end(
    db: Database, feed_server: FeedServer, webhook: WebhookServer
) -> None:
    clock = Clock()  # 12:00 UTC = 21:00 in Seoul
    quiet = {"start": "20:00", "end": "07:00", "timezone": "Asia/Seoul"}
    settings = settings_with(
        [target("hook", webhook.url(), quiet_hours=quiet)], serve(feed_server, ("n1", SIGNAL))
    )
    poll_all(db, settings, clock)

    during = send(db, settings, clock)
    [held] = store.list_deliveries(db, 10)
    clock.now = datetime(2026, 11, 29, 22, 1, tzinfo=UTC)  # 07:01 in Seoul
    after = send(db, settings, clock)

    assert during == 0 and held.status == "pending" and held.attempts == 0
    assert held.next_attempt_at == datetime(2026, 11, 29, 22, 0, tzinfo=UTC)
    assert "quiet hours" in (held.last_error or "")
    assert after == 1 and len(webhook.received) == 1


def test_the_realert_window_suppresses_a_second_story_of_the_same_rule(
    db: Database, feed_server: FeedServer, webhook: WebhookServer, tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    text = (rules / "rules.yaml").read_text()
    (rules / "rules.yaml").write_text(
        text.replace("    exclude: TOURISM\n", "    exclude: TOURISM\n    realert: 6h\n", 1)
    )
    clock = Clock()
    settings = settings_with(
        [target("hook", webhook.url())],
        serve(feed_server, ("e1", SIGNAL)),
        serve(feed_server, ("e2", "Betania receives Alphan missiles")),
    )

    poll_all(db, settings, clock, rules)
    first = send(db, settings, clock, rules)
    clock.now += timedelta(minutes=1)
    second = send(db, settings, clock, rules)

    statuses = sorted(d.status for d in store.list_deliveries(db, 10))
    assert first + second == 1 and len(webhook.received) == 1
    assert statuses == ["sent", "suppressed"]


def test_a_digest_sends_one_message_grouped_by_rule(
    db: Database, feed_server: FeedServer, webhook: WebhookServer
) -> None:
    clock = Clock()
    digest = {"cron": "0 8 * * *", "timezone": "Europe/Berlin"}
    settings = settings_with(
        [target("daily", webhook.url(), mode="digest", digest=digest)],
        serve(feed_server, ("g1", SIGNAL)),
        serve(feed_server, ("g2", "The Pact condemns Betania in a joint statement")),
        serve(feed_server, ("g3", "Betania buys Alphan missiles")),
    )
    poll_all(db, settings, clock)
    sender = Sender(db, build_notifiers(settings.targets), settings, "t", clock)

    immediate = asyncio.run(sender.send_due())
    count = asyncio.run(sender.send_digest("daily"))

    [call] = webhook.received
    message = call.json()["message"]
    assert immediate == 0 and count == 3
    assert call.json()["title"] == "monitor digest: 3 alert(s) from 2 rule(s)"
    assert message.index("alp-bet-arms") < message.index("pact-bet-statement")  # high first
    assert {d.status for d in store.list_deliveries(db, 10)} == {"sent"}
    assert next_digest(settings.targets[0], START) == datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def test_target_urls_are_shown_only_in_redacted_form() -> None:
    secret = "xoxbSECRETtoken9876"
    notifiers = build_notifiers((target("slack", f"slack://T0001/B0001/{secret}"),))

    shown = " ".join(notifiers["slack"].describe())

    assert secret not in shown and shown.startswith("slack://")


def test_an_unusable_apprise_url_is_a_clear_startup_error() -> None:
    with pytest.raises(AlertError, match="target 'bad': Apprise cannot use URL nosuch://"):
        build_notifiers((target("bad", "nosuch://token@host"),))


def test_item_text_cannot_inject_markup_into_email_or_slack() -> None:
    from monitor.alerts.render import Renderer
    from monitor.model import Alert, Evidence

    hostile = "<script>alert(1)</script> Alphaland *ships* [arms](http://evil)"
    alert = Alert(
        delivery_id=1,
        target="t",
        rule="alp-bet-arms",
        rule_title="Arms",
        level="high",
        score=0.9,
        title=hostile,
        link="https://news.example.org/x",
        feed="f",
        published_at=START,
        sentence=hostile,
        sources=1,
        evidence=(Evidence("vocab", "WEAPONS", "arms", 0, 4),),
    )
    renderer = Renderer()

    html = renderer.render(alert, "email").body
    markdown = renderer.render(alert, "slack").body

    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "[arms](http://evil)" not in markdown and "\\[" in markdown
    assert "\\*ships\\*" in markdown


def test_a_later_copy_at_a_higher_level_escalates_once(
    db: Database, feed_server: FeedServer, webhook: WebhookServer, tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    rules_file = rules / "rules.yaml"
    original = rules_file.read_text()
    rules_file.write_text(original.replace("level: high", "level: medium", 1))
    clock = Clock()
    outlets = [serve(feed_server, (guid, SIGNAL)) for guid in ("h1", "h2", "h3")]
    first = settings_with([target("hook", webhook.url())], outlets[0])
    poll_all(db, first, clock, rules)
    send(db, first, clock, rules)

    rules_file.write_text(original)  # the analyst raises the rule to high
    for count in (2, 3):  # copies of the story from a second, then a third outlet
        clock.now += timedelta(minutes=1)
        copy = settings_with([target("hook", webhook.url())], *outlets[:count])
        poll_all(db, copy, clock, rules)
        send(db, copy, clock, rules)

    titles = [call.json()["title"] for call in webhook.received]
    assert titles == [f"[MEDIUM] alp-bet-arms: {SIGNAL}", f"[HIGH] alp-bet-arms: {SIGNAL}"]


def test_a_target_can_come_from_an_apprise_config_file(
    tmp_path: Path, webhook: WebhookServer
) -> None:
    config = tmp_path / "apprise.txt"
    config.write_text(f"{webhook.url('/from-config')}\n")
    notifiers = build_notifiers((TargetConfig(name="cfg", config_file=config),))
    from monitor.alerts.render import Message

    result = notifiers["cfg"].send(Message("t", "b", "text"))

    assert result.ok and [r.path for r in webhook.received] == ["/from-config"]


def test_users_can_override_a_template(tmp_path: Path) -> None:
    from monitor.alerts.render import Renderer

    (tmp_path / "text.j2").write_text("{{ alert.rule }} fired on {{ alert.title }}")

    message = Renderer(tmp_path).render(_sample_alert(None, 1), "text")

    assert message.body == f"alp-bet-arms fired on {SIGNAL}"


def _sample_alert(link: str | None, sources: int) -> Alert:
    return Alert(
        delivery_id=1,
        target="t",
        rule="alp-bet-arms",
        rule_title="Arms",
        level="high",
        score=0.9,
        title=SIGNAL,
        link=link,
        feed="f",
        published_at=START,
        sentence=SIGNAL,
        sources=sources,
        evidence=(Evidence("vocab", "WEAPONS", "artillery", 16, 25),),
    )


@pytest.mark.parametrize("sources", [1, 3])
def test_a_text_alert_puts_the_link_on_its_own_line(sources: int) -> None:
    from monitor.alerts.render import Renderer

    body = Renderer().render(_sample_alert("https://news.example.org/a1", sources), "text").body

    outlets = " · 3 outlets report this story" if sources > 1 else ""
    assert body.splitlines() == [
        "HIGH · Arms (alp-bet-arms)",
        SIGNAL,
        f"f, 2026-11-29 12:00 UTC{outlets}",
        "https://news.example.org/a1",
        "> Alphaland ships [artillery] to Betania",
        "",
        "Why: artillery (WEAPONS) (score 0.90)",
    ]


def test_a_text_alert_without_a_link_leaves_no_gap() -> None:
    from monitor.alerts.render import Renderer

    lines = Renderer().render(_sample_alert(None, 1), "text").body.splitlines()

    assert lines[2:4] == ["f, 2026-11-29 12:00 UTC", "> Alphaland ships [artillery] to Betania"]


def test_a_slack_alert_ends_the_quote_before_the_next_line() -> None:
    from monitor.alerts.render import Renderer

    body = Renderer().render(_sample_alert("https://news.example.org/a1", 3), "slack").body

    assert "> Alphaland ships **artillery** to Betania\n\n*3 outlets report this story*\n" in body
    assert body.endswith("\n*why: artillery \\(WEAPONS\\)*")


def _text_part(message: EmailMessage) -> str:
    [part] = [p for p in message.walk() if p.get_content_type() == "text/plain"]
    return bytes(part.get_payload(decode=True)).decode()


def test_the_email_text_part_has_the_link_and_the_whole_rule_id(
    db: Database, feed_server: FeedServer, smtp: SmtpServer
) -> None:
    clock = Clock()
    settings = settings_with([target("mail", smtp.url())], serve(feed_server, ("t1", SIGNAL)))

    poll_all(db, settings, clock)
    send(db, settings, clock)

    [message] = smtp.messages
    lines = _text_part(message).splitlines()
    assert any(line.startswith("HIGH · ") and line.endswith(" (alp-bet-arms)") for line in lines)
    assert "https://news.example.org/t1" in lines


def test_the_digest_email_text_part_has_each_link_and_rule_id(
    db: Database, feed_server: FeedServer, smtp: SmtpServer
) -> None:
    clock = Clock()
    digest = {"cron": "0 8 * * *", "timezone": "UTC"}
    settings = settings_with(
        [target("daily", smtp.url(), mode="digest", digest=digest)],
        serve(feed_server, ("d1", SIGNAL)),
    )
    poll_all(db, settings, clock)
    sender = Sender(db, build_notifiers(settings.targets), settings, "t", clock)

    count = asyncio.run(sender.send_digest("daily"))

    [message] = smtp.messages
    text = _text_part(message)
    assert count == 1
    assert "(alp-bet-arms)" in text and "https://news.example.org/d1" in text.splitlines()


def test_the_outbox_keeps_the_rule_title_of_the_match(
    db: Database, feed_server: FeedServer
) -> None:
    # Given a match stored while the rule had its title
    clock = Clock()
    settings = settings_with(
        [target("hook", "json://127.0.0.1:9/")], serve(feed_server, ("t1", SIGNAL))
    )
    poll_all(db, settings, clock)

    # When the delivery is read back with no rules at hand (a sender started without them)
    [due] = store.claim_due_deliveries(db, "me", clock.now, timedelta(minutes=2), 5)

    # Then its message still carries the rule's title, not its id
    assert isinstance(due.alert, Alert)
    assert due.alert.rule_title == "Alphaland–Betania arms"
