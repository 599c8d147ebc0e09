"""`monitor run` delivering alerts end to end, surviving SIGKILL, and the alerts CLI."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from monitor import store
from monitor.cli import EXIT_FAILURE, EXIT_OK, main
from monitor.store import Database
from tests.conftest import RULES_CONFIG
from tests.feedserver import FeedServer
from tests.receivers import SmtpServer, WebhookServer
from tests.test_daemon import STOP_LIMIT, wait_for

SIGNAL = "Alphaland ships artillery to Betania"


def write_config(tmp_path: Path, feed_url: str, *, tick: str = "0.2s") -> Path:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f'database_url: "sqlite:///{tmp_path / "monitor.db"}"\n{RULES_CONFIG}'
        f"schedule: {{tick: {tick}}}\n"
        "alerts: {tick: 0.2s, first_retry: 1s}\n"
        "targets:\n"
        "  - {name: mail, urls_env: TEST_MAIL_URL}\n"
        "  - {name: hook, urls_env: TEST_HOOK_URL}\n"
        f'feeds:\n  - {{name: f, url: "{feed_url}", interval: 1h}}\n',
        encoding="utf-8",
    )
    return config


def daemon(config: Path, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env},
        )


def feed(server: FeedServer) -> str:
    name = f"{uuid.uuid4().hex[:8]}.xml"
    server.set_feed(
        name,
        (
            "<rss version='2.0'><channel><title>t</title><item><guid>a1</guid>"
            f"<title>{SIGNAL}</title><link>https://news.example.org/a1</link></item>"
            "</channel></rss>"
        ).encode(),
    )
    return server.url(f"/feeds/{name}")


def test_the_daemon_delivers_one_email_and_one_webhook_per_story(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    smtp, hook = SmtpServer(), WebhookServer()
    smtp.start()
    hook.start()
    config = write_config(tmp_path, feed(feed_server))
    env = {"TEST_MAIL_URL": smtp.url(), "TEST_HOOK_URL": hook.url()}
    process = daemon(config, env, tmp_path / "daemon.log")
    try:
        wait_for(lambda: len(smtp.messages) == 1 and len(hook.received) == 1)
        time.sleep(1.0)  # several more ticks: nothing else may arrive
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=STOP_LIMIT + 5)
        smtp.stop()
        hook.stop()

    assert code == 0
    assert (len(smtp.messages), len(hook.received)) == (1, 1)
    assert smtp.messages[0]["Subject"] == f"[HIGH] alp-bet-arms: {SIGNAL}"


def test_a_killed_daemon_delivers_pending_email_exactly_once_after_restart(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    smtp, hook = SmtpServer(), WebhookServer()  # the SMTP server starts down
    hook.start()
    config = write_config(tmp_path, feed(feed_server))
    env = {"TEST_MAIL_URL": smtp.url(), "TEST_HOOK_URL": hook.url()}
    db = Database(f"sqlite:///{tmp_path / 'monitor.db'}")
    log = tmp_path / "daemon.log"
    first = daemon(config, env, log)
    try:
        wait_for(lambda: db.is_current() and delivered_hook_tried_mail(db))
    finally:
        first.kill()  # SIGKILL: no cleanup at all
        first.wait(timeout=10)
    smtp.start()
    second = daemon(config, env, log)
    try:
        wait_for(lambda: len(smtp.messages) == 1)
        time.sleep(1.5)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=STOP_LIMIT + 5)
        smtp.stop()
        hook.stop()
    statuses = {d.target: d.status for d in store.list_deliveries(db, 10)}
    db.dispose()

    assert len(smtp.messages) == 1 and len(hook.received) == 1
    assert statuses == {"mail": "sent", "hook": "sent"}


def delivered_hook_tried_mail(db: Database) -> bool:
    found = {d.target: d for d in store.list_deliveries(db, 10)}
    return (
        "hook" in found
        and found["hook"].status == "sent"
        and "mail" in found
        and found["mail"].attempts >= 1
    )


def test_alerts_test_tells_the_truth_about_a_broken_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = WebhookServer()
    hook.start()
    hook.status = 404
    config = write_config(tmp_path, "http://127.0.0.1:9/feed.xml")
    monkeypatch.setenv("TEST_MAIL_URL", SmtpServer().url())  # nothing listens there
    monkeypatch.setenv("TEST_HOOK_URL", hook.url())
    try:
        broken = main(["--config", str(config), "alerts", "test", "hook"])
        out_broken = capsys.readouterr().out
        hook.status = 200
        working = main(["--config", str(config), "alerts", "test", "hook"])
        out_working = capsys.readouterr().out
        mail = main(["--config", str(config), "alerts", "test", "mail"])
        out_mail = capsys.readouterr().out
    finally:
        hook.stop()

    assert broken == EXIT_FAILURE and "hook: FAILED" in out_broken and "404" in out_broken
    assert working == EXIT_OK and "hook: delivered" in out_working
    assert mail == EXIT_FAILURE and "mail: FAILED" in out_mail
    assert len(hook.received) == 2


def test_alerts_lists_the_history_and_retry_requeues_dead_ones(
    tmp_path: Path,
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = write_config(tmp_path, feed(feed_server))
    monkeypatch.setenv("TEST_MAIL_URL", SmtpServer().url())
    monkeypatch.setenv("TEST_HOOK_URL", WebhookServer().url())
    main(["--config", str(config), "poll"])
    db = Database(f"sqlite:///{tmp_path / 'monitor.db'}")
    mail = next(d for d in store.list_deliveries(db, 10) if d.target == "mail")
    store.record_attempt(db, mail.id, mail.created_at, ok=False, error="refused", status="dead")
    capsys.readouterr()

    listed = main(["--config", str(config), "alerts"])
    listing = capsys.readouterr().out
    retried = main(["--config", str(config), "alerts", "retry", "--dead"])
    retry_out = capsys.readouterr().out
    after = {d.target: (d.status, d.attempts) for d in store.list_deliveries(db, 10)}
    db.dispose()

    assert listed == EXIT_OK and retried == EXIT_OK
    rows = [line.split() for line in listing.splitlines()[1:] if "!" not in line]
    assert sorted((r[1], r[2]) for r in rows) == [("dead", "mail"), ("pending", "hook")]
    assert "! refused" in listing
    assert retry_out.strip() == "1 deliveries queued again"
    assert after == {"mail": ("pending", 1), "hook": ("pending", 0)}
