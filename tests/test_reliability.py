"""Alerts a user can trust, tried as a user would: `monitor run` as real processes against a
real feed server, a real SMTP server, a real webhook, SQLite and PostgreSQL.

Each test is one promise of the README: digests, quiet hours, one alert per story across
daemons, no lost or repeated alert across SIGKILL and SIGTERM, bounded parsing, fair
scheduling across hosts, feed health notices.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

from monitor import store
from monitor.store import Database
from tests.conftest import RULES_CONFIG, RULES_DIR, truncate
from tests.feedserver import FeedServer
from tests.receivers import SmtpServer, WebhookServer, free_port
from tests.test_daemon import STOP_LIMIT, wait_for


def rss(*entries: tuple[str, str]) -> bytes:
    """A feed of (guid, title) entries."""
    items = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title>"
        f"<link>https://news.example.org/{guid}</link></item>"
        for guid, title in entries
    )
    return f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode()


def serve(server: FeedServer, *entries: tuple[str, str]) -> str:
    name = f"{uuid.uuid4().hex[:8]}.xml"
    server.set_feed(name, rss(*entries))
    return server.url(f"/feeds/{name}")


def config(tmp_path: Path, database_url: str, body: str, name: str = "monitor.yaml") -> Path:
    path = tmp_path / name
    path.write_text(
        f'database_url: "{database_url}"\n{RULES_CONFIG}'
        "schedule: {tick: 0.2s}\n"
        "alerts: {tick: 0.2s, first_retry: 1s, max_retry: 2s}\n" + body,
        encoding="utf-8",
    )
    return path


class Daemon:
    """`monitor run` in a subprocess, its output in a log file."""

    def __init__(self, path: Path, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(path), "run"],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
            )

    def stop(self) -> tuple[int, float]:
        """SIGTERM; the exit status and how long the exit took."""
        began = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=STOP_LIMIT + 10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("daemon ignored SIGTERM:\n" + self.output()) from None
        return code, time.monotonic() - began

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'monitor.db'}"
        return
    url: str = request.getfixturevalue("pg_url")
    db = Database(url)
    db.upgrade()
    truncate(db)
    db.dispose()
    yield url


@pytest.fixture
def hook() -> Iterator[WebhookServer]:
    server = WebhookServer()
    server.start()
    yield server
    server.stop()


def titles(hook: WebhookServer) -> list[str]:
    return [str(r.json().get("title", "")) for r in hook.received]


# --- digests and quiet hours, in the daemon itself ------------------------------------------


def test_a_digest_target_gets_one_digest_and_nothing_else(
    tmp_path: Path, feed_server: FeedServer, hook: WebhookServer, database_url: str
) -> None:
    # Given a digest target sent every 3 s and a feed with two signals
    url = serve(
        feed_server,
        ("d1", "Alphaland ships artillery shells to Betania"),
        ("d2", "Betania buys missiles from Alphaland after border clash"),
    )
    path = config(
        tmp_path,
        database_url,
        "targets:\n  - {name: desk, urls_env: HOOK, mode: digest, digest: {every: 3s}}\n"
        f'feeds:\n  - {{name: f, url: "{url}", interval: 1h}}\n',
    )
    daemon = Daemon(path, {"HOOK": hook.url()}, tmp_path / "daemon.log")
    try:
        # When the daemon runs for two digest periods
        wait_for(lambda: len(hook.received) >= 1, timeout=30)
        time.sleep(4.0)
    finally:
        code, _ = daemon.stop()

    # Then exactly one message came, the digest, listing both alerts
    assert code == 0, daemon.output()
    assert len(hook.received) == 1, titles(hook)
    message = hook.received[0].json()
    assert message["title"].startswith("monitor digest: 2 alert(s)")
    assert "artillery" in message["message"] and "missiles" in message["message"]


def test_quiet_hours_hold_alerts_and_release_each_once(
    tmp_path: Path, feed_server: FeedServer, hook: WebhookServer
) -> None:
    # Given quiet hours that end 6 s from now
    now = datetime.now(UTC)
    start, end = (now - timedelta(minutes=5)), (now + timedelta(seconds=6))
    quiet = f"{{start: '{start:%H:%M:%S}', end: '{end:%H:%M:%S}', timezone: UTC}}"
    url = serve(feed_server, ("q1", "Alphaland ships artillery shells to Betania"))
    path = config(
        tmp_path,
        f"sqlite:///{tmp_path / 'monitor.db'}",
        f"targets:\n  - {{name: desk, urls_env: HOOK, quiet_hours: {quiet}}}\n"
        f'feeds:\n  - {{name: f, url: "{url}", interval: 1h}}\n',
    )
    db = Database(f"sqlite:///{tmp_path / 'monitor.db'}")
    daemon = Daemon(path, {"HOOK": hook.url()}, tmp_path / "daemon.log")
    try:
        # When the alert is stored during quiet hours
        wait_for(lambda: db.is_current() and _held(db), timeout=20)
        held = store.list_deliveries(db, 5)[0]
        early = len(hook.received)
        # Then it goes out once they end, and only once
        wait_for(lambda: len(hook.received) >= 1, timeout=20)
        arrived = datetime.now(UTC)
        time.sleep(2.0)
    finally:
        code, _ = daemon.stop()
        db.dispose()

    assert code == 0, daemon.output()
    assert early == 0 and "held for quiet hours" in (held.last_error or "")
    assert arrived >= end - timedelta(seconds=1)
    assert len(hook.received) == 1


# --- stories: one alert per story, on PostgreSQL with two daemons ----------------------------


def test_copies_of_a_story_alert_once_and_a_distinct_event_alerts_again(
    tmp_path: Path, feed_server: FeedServer, hook: WebhookServer, database_url: str
) -> None:
    # Given three outlets with copies of one story, and a fourth with another event told in
    # the same agency template (the old measure merged them: 5 of 7 words shared), and quiet
    # hours that hold alerts until every copy is in
    copies = [
        "Alphaland ships artillery shells to Betania, officials say",
        "Alphaland ships artillery shells to Betania - officials",
        "Officials say Alphaland ships artillery shells to Betania",
    ]
    urls = [serve(feed_server, (f"copy{i}", title)) for i, title in enumerate(copies)]
    urls.append(
        serve(feed_server, ("other", "Alphaland ships more missiles to Betania, officials say"))
    )
    feeds = "".join(
        f'  - {{name: outlet{i}, url: "{url}", interval: 1h}}\n' for i, url in enumerate(urls)
    )
    # (long enough for every daemon to start and poll, on a loaded machine too)
    end = datetime.now(UTC) + timedelta(seconds=15)
    quiet = f"{{start: '00:00', end: '{end:%H:%M:%S}', timezone: UTC}}"
    body = (
        "http: {workers: 8}\n"
        f"targets:\n  - {{name: desk, urls_env: HOOK, quiet_hours: {quiet}}}\n"
        f"feeds:\n{feeds}"
    )
    path = config(tmp_path, database_url, body)
    env = {"HOOK": hook.url()}
    # When one daemon runs on SQLite, and two start together on one PostgreSQL
    count = 2 if database_url.startswith("postgresql") else 1
    daemons = [Daemon(path, env, tmp_path / f"daemon{i}.log") for i in range(count)]
    db = Database(database_url)
    try:
        wait_for(lambda: len(hook.received) >= 2, timeout=40)
        time.sleep(2.0)
    finally:
        codes = [d.stop()[0] for d in daemons]
        views = store.list_feeds(db)
        db.dispose()

    # Then none crashed, every feed was polled, and there is one alert per story
    output = "".join(d.output() for d in daemons)
    assert codes == [0] * count, output
    assert "Traceback" not in output
    assert all(v.status == "ok" for v in views) and len(views) == 4
    messages = [r.json()["message"] for r in hook.received]
    assert len(messages) == 2, titles(hook)
    shells = next(m for m in messages if "shells" in m)
    assert "3 outlets" in shells


# --- no lost, no repeated alert across SIGKILL and SIGTERM -----------------------------------


def test_sigkill_during_an_outage_then_restart_sends_one_email_within_30s(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # Given a daemon whose mail server is down, killed after a failed attempt
    smtp = SmtpServer()
    url = serve(feed_server, ("k1", "Alphaland ships artillery shells to Betania"))
    path = config(
        tmp_path,
        f"sqlite:///{tmp_path / 'monitor.db'}",
        "targets:\n  - {name: mail, urls_env: MAIL}\n"
        f'feeds:\n  - {{name: f, url: "{url}", interval: 1h}}\n',
    )
    db = Database(f"sqlite:///{tmp_path / 'monitor.db'}")
    env = {"MAIL": smtp.url()}
    first = Daemon(path, env, tmp_path / "daemon.log")
    try:
        wait_for(
            lambda: db.is_current() and any(d.attempts >= 1 for d in store.list_deliveries(db, 5)),
            timeout=30,
        )
    finally:
        first.kill()
    # When the mail server is back and the daemon restarts
    smtp.start()
    restarted = time.monotonic()
    second = Daemon(path, env, tmp_path / "daemon.log")
    try:
        wait_for(lambda: len(smtp.messages) >= 1, timeout=40)
        took = time.monotonic() - restarted
        time.sleep(2.0)
    finally:
        second.stop()
        smtp.stop()
        statuses = [d.status for d in store.list_deliveries(db, 5)]
        db.dispose()

    # Then one email came, well before the dead daemon's lease would have run out
    assert len(smtp.messages) == 1 and statuses == ["sent"]
    assert took < 30, took
    assert "freed the leases of dead daemons" in second.output()


def test_sigterm_during_a_slow_send_then_restart_still_sends_one_email(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # Given a mail server that takes 4 s to accept a message
    smtp = SmtpServer(delay=4.0)
    smtp.start()
    url = serve(feed_server, ("t1", "Alphaland ships artillery shells to Betania"))
    path = config(
        tmp_path,
        f"sqlite:///{tmp_path / 'monitor.db'}",
        "targets:\n  - {name: mail, urls_env: MAIL}\n"
        f'feeds:\n  - {{name: f, url: "{url}", interval: 1h}}\n',
    )
    env = {"MAIL": smtp.url()}
    first = Daemon(path, env, tmp_path / "daemon.log")
    try:
        # When SIGTERM arrives while the message is being sent
        assert smtp.inbox.receiving.wait(timeout=30), first.output()
        code, took = first.stop()
        # and the daemon is started again
        second = Daemon(path, env, tmp_path / "daemon.log")
        time.sleep(4.0)
        second.stop()
    finally:
        smtp.stop()

    # Then it exited in time, and the one email was recorded as sent, never sent again
    assert code == 0 and took < STOP_LIMIT, (code, took)
    assert len(smtp.messages) == 1
    # (and the sender's ticks that found it still busy were not logged as warnings)
    assert "maximum number of running instances" not in first.output()
    db = Database(f"sqlite:///{tmp_path / 'monitor.db'}")
    assert [d.status for d in store.list_deliveries(db, 5)] == ["sent"]
    db.dispose()


# --- a hostile document, a slow host ---------------------------------------------------------


def heavy_document() -> bytes:
    """A malformed feed that keeps feedparser's fallback parser busy for a long time."""
    return b"<rss><channel><item><title>" + b"<b><i>" * 600_000  # 3.6 MB: ~30 s to parse


def test_a_cpu_heavy_document_ends_at_its_budget_and_sigterm_exits_fast(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # Given a feed whose document takes far longer to parse than the poll's 3 s budget
    name = f"{uuid.uuid4().hex[:8]}-heavy.xml"
    feed_server.set_feed(name, heavy_document())
    heavy = feed_server.url(f"/feeds/{name}")
    good = serve(feed_server, ("g1", "Alphaland ships artillery shells to Betania"))
    path = config(
        tmp_path,
        f"sqlite:///{tmp_path / 'monitor.db'}",
        "http: {total_timeout: 3s}\n"
        f'feeds:\n  - {{name: heavy, url: "{heavy}", interval: 1h}}\n'
        f'  - {{name: good, url: "{good}", interval: 1h}}\n',
    )
    db = Database(f"sqlite:///{tmp_path / 'monitor.db'}")
    daemon = Daemon(path, {}, tmp_path / "daemon.log")
    began = time.monotonic()
    try:
        # When it is polled
        wait_for(lambda: db.is_current() and _status(db, "heavy") == "error", timeout=30)
        ended = time.monotonic() - began
    finally:
        code, took = daemon.stop()
        views = {v.name: v for v in store.list_feeds(db)}
        db.dispose()

    # Then the poll ended at its budget with a timeout, the other feed was not held up
    assert views["heavy"].last_error_kind == "timeout"
    assert "parsing did not finish" in (views["heavy"].last_error or "")
    assert ended < 15, ended
    assert views["good"].status == "ok"
    assert code == 0 and took < STOP_LIMIT, (code, took)


def test_sigterm_while_a_heavy_document_is_parsed_exits_within_10s(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    name = f"{uuid.uuid4().hex[:8]}-heavy.xml"
    feed_server.set_feed(name, heavy_document())
    path = config(
        tmp_path,
        f"sqlite:///{tmp_path / 'monitor.db'}",
        "http: {total_timeout: 120s}\n"
        f'feeds:\n  - {{name: heavy, url: "{feed_server.url("/feeds/" + name)}", interval: 1h}}\n',
    )
    daemon = Daemon(path, {}, tmp_path / "daemon.log")
    assert feed_server.wait_for_hits(f"/feeds/{name}", 1, timeout=30)
    time.sleep(1.5)  # the document is being parsed now

    code, took = daemon.stop()

    assert code == 0 and took < STOP_LIMIT, (code, took, daemon.output())


def test_slow_feeds_on_one_host_do_not_delay_the_other_hosts(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # Given eight feeds on one host that drip for 30 s, and three feeds on another host
    # ("localhost" and "127.0.0.1" are two hosts to the daemon, one server here)
    slow = "".join(
        f'  - {{name: slow{i}, url: "{feed_server.url(f"/drip?seconds=30&n={i}")}", '
        "interval: 1h}\n"
        for i in range(8)
    )
    other_host = [
        serve(feed_server, (f"f{i}", "News")).replace("127.0.0.1", "localhost") for i in range(3)
    ]
    fast = "".join(
        f'  - {{name: fast{i}, url: "{url}", interval: 1h}}\n' for i, url in enumerate(other_host)
    )
    path = config(
        tmp_path,
        f"sqlite:///{tmp_path / 'monitor.db'}",
        "http: {workers: 8, per_host: 2, total_timeout: 60s}\n" + f"feeds:\n{slow}{fast}",
    )
    db = Database(f"sqlite:///{tmp_path / 'monitor.db'}")
    daemon = Daemon(path, {}, tmp_path / "daemon.log")
    began = time.monotonic()
    try:
        # When the daemon starts, then the other host's feeds are all polled within seconds
        wait_for(
            lambda: db.is_current() and all(_status(db, f"fast{i}") == "ok" for i in range(3)),
            timeout=25,
        )
        took = time.monotonic() - began
        leased = sum(1 for v in store.list_feeds(db) if v.leased_by and v.name.startswith("slow"))
    finally:
        daemon.stop()
        db.dispose()

    assert took < 10, took
    assert leased <= 2  # never more than per_host polls of the slow host at once


# --- feed health ------------------------------------------------------------------------------


def test_a_failing_feed_alerts_operations_once_and_once_more_when_it_recovers(
    tmp_path: Path, feed_server: FeedServer, hook: WebhookServer
) -> None:
    # Given a feed that fails, an ops target, and a 1 s threshold
    name = f"{uuid.uuid4().hex[:8]}.xml"
    url = feed_server.url(f"/feeds/{name}")  # not served yet: 404
    path = config(
        tmp_path,
        f"sqlite:///{tmp_path / 'monitor.db'}",
        "targets:\n  - {name: ops, urls_env: HOOK}\n"
        "feed_health: {notify: [ops], after: 1s}\n"
        f'defaults: {{interval: 1s}}\nfeeds:\n  - {{name: wire, url: "{url}"}}\n',
    )
    daemon = Daemon(path, {"HOOK": hook.url()}, tmp_path / "daemon.log")
    try:
        # When it keeps failing, then one "failing" notice comes
        wait_for(lambda: len(hook.received) >= 1, timeout=30)
        time.sleep(3.0)
        down = list(titles(hook))
        # and when it recovers, one "back" notice
        feed_server.set_feed(name, rss(("h1", "All quiet")))
        wait_for(lambda: len(hook.received) >= 2, timeout=30)
        time.sleep(3.0)
    finally:
        daemon.stop()

    assert down == ["[MEDIUM] monitor: feed wire is failing"]
    assert titles(hook) == [down[0], "[LOW] monitor: feed wire is back"]
    assert "HTTP 404" in hook.received[0].json()["message"]


def _status(db: Database, name: str) -> str | None:
    return next((v.status for v in store.list_feeds(db) if v.name == name), None)


def _held(db: Database) -> bool:
    return any("held for quiet hours" in (d.last_error or "") for d in store.list_deliveries(db, 5))


# --- a rule change cannot silently drop alerts -----------------------------------------------


def test_a_reload_with_a_notify_typo_is_rejected_and_the_last_good_rules_stay(
    tmp_path: Path, feed_server: FeedServer, hook: WebhookServer
) -> None:
    # Given a daemon whose rule alerts the analysts target
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    rules_file = rules / "rules.yaml"
    good = rules_file.read_text(encoding="utf-8").replace(
        "    level: high\n", "    level: high\n    notify: [analysts]\n", 1
    )
    rules_file.write_text(good, encoding="utf-8")
    name = f"{uuid.uuid4().hex[:8]}.xml"
    feed_server.set_feed(name, rss(("r0", "Weather in Betopolis")))
    url = feed_server.url(f"/feeds/{name}")
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f'database_url: "sqlite:///{tmp_path / "m.db"}"\n'
        f'rules_dir: "{rules}"\nseeds_dir: "{rules / "seeds"}"\n'
        "schedule: {tick: 0.2s}\nalerts: {tick: 0.2s}\n"
        "targets:\n  - {name: analysts, urls_env: HOOK}\n"
        f'defaults: {{interval: 1s}}\nfeeds:\n  - {{name: f, url: "{url}"}}\n',
        encoding="utf-8",
    )
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    daemon = Daemon(path, {"HOOK": hook.url()}, tmp_path / "daemon.log")
    try:
        wait_for(lambda: db.is_current() and bool(store.list_daemons(db)), timeout=30)
        # When the analyst saves the rule with a typo in notify:
        rules_file.write_text(good.replace("notify: [analysts]", "notify: [analysys]"))
        wait_for(lambda: "rule reload rejected" in daemon.output(), timeout=20)
        # and a matching item arrives afterwards
        feed_server.set_feed(name, rss(("r1", "Alphaland ships artillery shells to Betania")))
        wait_for(lambda: len(hook.received) >= 1, timeout=30)
    finally:
        code, _ = daemon.stop()
        db.dispose()

    # Then the reload was refused at the notify: line, and the old rules still alerted
    output = daemon.output()
    line = next(n for n, t in enumerate(good.splitlines(), 1) if "notify:" in t)
    assert (
        f"{rules_file}:{line}:5: error: notify: rule 'alp-bet-arms' names unknown target" in output
    )
    assert "keeping the previous rules" in output
    assert code == 0 and len(hook.received) == 1


# --- the dashboard inside the daemon -----------------------------------------------------------


def test_the_daemon_serves_the_dashboard_and_healthz_and_links_alerts_to_it(
    tmp_path: Path, feed_server: FeedServer, hook: WebhookServer
) -> None:
    # Given a daemon told to serve the dashboard, with a public address for alert links
    port = free_port()
    url = serve(feed_server, ("w1", "Alphaland ships artillery shells to Betania"))
    path = config(
        tmp_path,
        f"sqlite:///{tmp_path / 'monitor.db'}",
        f"web: {{in_daemon: true, listen: '127.0.0.1:{port}', base_url: 'https://desk.example.org'}}\n"
        "targets:\n  - {name: desk, urls_env: HOOK}\n"
        f'feeds:\n  - {{name: f, url: "{url}", interval: 1h}}\n',
    )
    daemon = Daemon(path, {"HOOK": hook.url()}, tmp_path / "daemon.log")
    try:
        # When it has polled and alerted
        wait_for(lambda: len(hook.received) >= 1, timeout=30)
        health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
        page = httpx.get(f"http://127.0.0.1:{port}/matches", timeout=5)
        compose_check = _compose_healthcheck(port)
    finally:
        code, took = daemon.stop()
    stopped_check = _compose_healthcheck(port)

    # Then the dashboard answered from the daemon, and the alert links to the match's page
    assert health.status_code == 200, health.text
    assert page.status_code == 200 and "Alphaland ships artillery shells" in page.text
    message = hook.received[0].json()["message"]
    assert "https://desk.example.org/matches/1" in message
    assert code == 0 and took < STOP_LIMIT
    # and docker-compose.yml's healthcheck, run as written, tells a live daemon from none
    assert (compose_check, stopped_check != 0) == (0, True)


def _compose_healthcheck(port: int) -> int:
    compose = yaml.safe_load((Path(__file__).parent.parent / "docker-compose.yml").read_text())
    command = compose["services"]["monitor"]["healthcheck"]["test"]
    assert command[:3] == ["CMD", "python", "-c"]
    code = command[3].replace(":8080/", f":{port}/")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=20).returncode


def test_a_worker_freed_by_a_poll_is_filled_at_once_not_on_the_next_tick(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    # Given twenty quick feeds, two workers and a slow 30 s dispatch tick
    urls = [serve(feed_server, (f"t{i}", "News")) for i in range(20)]
    feeds = "".join(
        f'  - {{name: f{i}, url: "{url}", interval: 1h}}\n' for i, url in enumerate(urls)
    )
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f'database_url: "sqlite:///{tmp_path / "m.db"}"\n{RULES_CONFIG}'
        "schedule: {tick: 30s}\nhttp: {workers: 2, per_host: 2}\n"
        f"feeds:\n{feeds}",
        encoding="utf-8",
    )
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    daemon = Daemon(path, {}, tmp_path / "daemon.log")
    try:
        # When it starts, then every feed is polled long before a second tick could come
        wait_for(lambda: db.is_current() and bool(store.list_daemons(db)), timeout=30)
        began = time.monotonic()
        wait_for(lambda: all(_status(db, f"f{i}") == "ok" for i in range(20)), timeout=25)
        took = time.monotonic() - began
    finally:
        daemon.stop()
        db.dispose()

    assert took < 20, took
