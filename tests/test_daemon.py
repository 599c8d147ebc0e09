"""`monitor run` as a real subprocess: polls on schedule, survives restarts, stops on SIGTERM."""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from monitor import store
from monitor.store import Database
from tests.conftest import RULES_CONFIG, RULES_DIR, truncate
from tests.feedserver import FeedServer

STOP_LIMIT = 10.0


def write_config(tmp_path: Path, server: FeedServer, database_url: str) -> Path:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f"""\
database_url: "{database_url}"
{RULES_CONFIG}schedule: {{tick: 0.2s}}
http: {{total_timeout: 3s}}
feeds:
  - {{name: basic, url: "{server.url("/feeds/basic.xml")}", interval: 1h}}
  - {{name: atom, url: "{server.url("/feeds/basic-atom.xml")}", interval: 1h}}
  - {{name: broken, url: "{server.url("/feeds/broken.xml")}", interval: 1h}}
  - {{name: slow, url: "{server.url("/drip?seconds=60")}", interval: 1h}}
""",
        encoding="utf-8",
    )
    return config


def start_daemon(config: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config), *extra, "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def stop(process: subprocess.Popen[str]) -> tuple[int, float, str]:
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=STOP_LIMIT + 5)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        raise AssertionError("daemon ignored SIGTERM:\n" + output) from None
    return process.returncode, time.monotonic() - began, output


def polled(db: Database, *names: str) -> bool:
    views = {v.name: v for v in store.list_feeds(db)}
    return all(n in views and views[n].last_polled_at is not None for n in names)


def test_daemon_polls_stores_and_stops_cleanly_on_sigterm(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    config = write_config(tmp_path, feed_server, url)
    daemon = start_daemon(config)
    db = Database(url)
    try:
        wait_for(lambda: db.is_current() and polled(db, "basic", "atom", "broken"))
        wait_for(lambda: any(r.path == "/drip" for r in feed_server.requests))  # mid-poll
    finally:
        code, took, output = stop(daemon)

    assert code == 0, output
    assert took < STOP_LIMIT
    views = {v.name: v for v in store.list_feeds(db)}
    assert views["basic"].items > 0 and views["atom"].items > 0
    assert views["broken"].status == "error" and views["broken"].last_error_kind == "malformed"
    assert all(v.leased_by is None for v in views.values())  # the slow poll's lease was released
    assert "daemon stopped" in output and "level=info" in output


def test_a_restart_neither_repolls_early_nor_forgets(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    config = write_config(tmp_path, feed_server, url)
    db = Database(url)
    daemon = start_daemon(config)
    try:
        wait_for(lambda: db.is_current() and polled(db, "basic", "atom"))
    finally:
        stop(daemon)
    hits = feed_server.hits("/feeds/basic.xml")

    daemon = start_daemon(config, "--log-format", "json")
    try:
        wait_for(lambda: bool(store.list_daemons(db)))  # it is running (imports take a while)
        time.sleep(1.5)  # several dispatch ticks
    finally:
        code, _, output = stop(daemon)

    assert code == 0, output
    assert feed_server.hits("/feeds/basic.xml") == hits  # due again only in an hour
    assert '"msg": "daemon started"' in output


def test_daemon_polls_again_when_the_interval_comes_round(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    target = f"/feeds/{os.urandom(4).hex()}.xml"
    feed_server.set_feed(
        target[len("/feeds/") :],
        b"<rss version='2.0'><channel><item><guid>1</guid><title>t</title></item></channel></rss>",
    )
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f'database_url: "{url}"\n{RULES_CONFIG}schedule: {{tick: 0.1s}}\n'
        f'feeds:\n  - {{name: fast, url: "{feed_server.url(target)}", interval: 1s}}\n',
        encoding="utf-8",
    )
    daemon = start_daemon(config)
    try:
        wait_for(lambda: feed_server.hits(target) >= 3)
    finally:
        code, _, output = stop(daemon)

    conditional = [r for r in feed_server.requests if r.path == target][1:]
    assert code == 0, output
    assert all(r.headers.get("If-None-Match") for r in conditional)  # 304s after the first


def test_daemon_refuses_to_start_on_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text("feeds:\n  - name: x\n    url: ftp://example.org/feed\n", encoding="utf-8")

    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "run"],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert f"{config}:3:5: error: feeds[0].url: 'ftp://example.org/feed' is not an http(s) URL" in (
        result.stderr
    )


def test_two_daemons_on_one_postgresql_never_poll_a_feed_twice(
    tmp_path: Path, feed_server: FeedServer, pg_url: str
) -> None:
    db = Database(pg_url)
    db.upgrade()
    truncate(db)
    tag = os.urandom(4).hex()
    names = [f"{tag}-{i}.xml" for i in range(24)]
    for name in names:
        feed_server.set_feed(
            name,
            f"<rss version='2.0'><channel><title>{name}</title>"
            f"<item><guid>{name}</guid><title>x</title></item>"
            "</channel></rss>".encode(),
        )
    feeds = "\n".join(
        f'  - {{name: f{i}, url: "{feed_server.url("/feeds/" + n)}", interval: 1h}}'
        for i, n in enumerate(names)
    )
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f'database_url: "{pg_url}"\n{RULES_CONFIG}schedule: {{tick: 0.1s}}\nhttp: {{workers: 3}}\n'
        f"feeds:\n{feeds}\n",
        encoding="utf-8",
    )

    daemons = [start_daemon(config), start_daemon(config)]
    try:
        wait_for(lambda: polled(db, *(f"f{i}" for i in range(24))))
        time.sleep(0.5)
    finally:
        results = [stop(d) for d in daemons]

    views = store.list_feeds(db)
    db.dispose()
    assert all(code == 0 for code, _, _ in results), results
    assert [feed_server.hits(f"/feeds/{n}") for n in names] == [1] * 24
    assert all(v.items == 1 for v in views)


def test_daemon_records_matches_and_hot_reloads_rules(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    target = f"{os.urandom(4).hex()}.xml"
    feed_server.set_feed(target, rss_bytes("Alphaland ships artillery to Betania"))
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f'database_url: "{url}"\nrules_dir: "{rules}"\nseeds_dir: "{rules / "seeds"}"\n'
        f"schedule: {{tick: 0.1s}}\n"
        f'feeds:\n  - {{name: f, url: "{feed_server.url("/feeds/" + target)}", interval: 1s}}\n',
        encoding="utf-8",
    )
    log = tmp_path / "daemon.log"
    db = Database(url)
    with log.open("w") as out:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "monitor", "--config", str(config), "run"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: db.is_current() and len(store.recent_matches(db, 10)) == 1)
        rules_file = rules / "rules.yaml"
        original = rules_file.read_text()
        rules_file.write_text(original.replace("evidence: WEAPONS", "evidence: WEAPON"))
        wait_for(lambda: "rule reload rejected" in log.read_text())
        feed_server.set_feed(
            target,
            rss_bytes("Alphaland ships artillery to Betania", "Betania gets Alphan missiles"),
        )
        wait_for(lambda: len(store.recent_matches(db, 10)) == 2)  # old rules still live
        rules_file.write_text(original.replace("level: high", "level: critical"))
        wait_for(lambda: "rules reloaded" in log.read_text())
        feed_server.set_feed(
            target,
            rss_bytes(
                "Alphaland ships artillery to Betania",
                "Betania gets Alphan missiles",
                "Alphaland sells Betania more shells",
            ),
        )
        wait_for(lambda: len(store.recent_matches(db, 10)) == 3)
    finally:
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=STOP_LIMIT + 5)
    output = log.read_text()
    matches = store.recent_matches(db, 10)
    db.dispose()

    assert code == 0, output
    assert "unknown vocabulary set 'WEAPON' (did you mean 'WEAPONS'?)" in output
    assert {m.rule for m in matches} == {"alp-bet-arms"}
    assert sorted(m.level for m in matches) == ["critical", "high", "high"]
    assert all(any(e["ref"] == "WEAPONS" for e in m.evidence) for m in matches)


def rss_bytes(*titles: str) -> bytes:
    items = "".join(f"<item><guid>{t}</guid><title>{t}</title></item>" for t in titles)
    return f"<rss version='2.0'><channel>{items}</channel></rss>".encode()


def test_a_job_cancelled_by_the_stop_ends_quietly_and_any_other_cancel_stands(
    tmp_path: Path,
) -> None:
    # APScheduler cancels the jobs running when the daemon stops and logs each cancellation
    # as the job's error, with a traceback; only the daemon's own stop is taken quietly
    from monitor.app import open_app
    from monitor.daemon import Daemon
    from monitor.settings import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path}/monitor.db")

    async def cancelled(daemon: Daemon, stopping: bool) -> bool:
        started = asyncio.Event()

        async def work() -> None:
            started.set()
            await asyncio.sleep(60)

        run = asyncio.create_task(daemon._job(work)())
        await started.wait()
        daemon._stopping = stopping
        run.cancel()
        await asyncio.wait({run})
        return run.cancelled()

    async def scenario() -> tuple[bool, bool]:
        async with open_app(settings, db=Database(settings.database_url), notifiers={}) as app:
            daemon = Daemon(app)
            return await cancelled(daemon, stopping=False), await cancelled(daemon, True)

    assert asyncio.run(scenario()) == (True, False)
