"""The `monitor` command as a user runs it: exit codes, tables, JSON, errors, redaction."""

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from monitor import __version__, store
from monitor.app import utc_now
from monitor.cli import EXIT_FAILURE, EXIT_INVALID, EXIT_OK, EXIT_UNAVAILABLE, main
from monitor.store import Database
from tests.conftest import RULES_CONFIG
from tests.feedserver import FeedServer, closed_port


@pytest.fixture
def config(tmp_path: Path, feed_server: FeedServer) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f"""\
database_url: "sqlite:///{tmp_path / "data" / "monitor.db"}"
{RULES_CONFIG}http: {{total_timeout: 2s, max_body: 1MB}}
feeds:
  - {{name: basic, url: "{feed_server.url("/feeds/basic.xml")}"}}
  - {{name: atom, url: "{feed_server.url("/feeds/basic-atom.xml")}"}}
  - {{name: html, url: "{feed_server.url("/feeds/html-page.xml")}"}}
  - {{name: bomb, url: "{feed_server.url("/gzip-bomb")}"}}
  - {{name: gone, url: "{feed_server.url("/status/410")}"}}
  - {{name: secret, url: "{feed_server.url("/status/500?token=hunter2")}"}}
""",
        encoding="utf-8",
    )
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])

    assert exited.value.code == 0 and __version__ in capsys.readouterr().out


def test_poll_reports_every_feed_and_fails_when_one_fails(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--config", str(config), "poll")

    assert code == EXIT_FAILURE
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert lines["basic"].startswith("ok, 3 new of 3")
    assert lines["html"].startswith("error [not-a-feed] not a feed: the server sent an HTML page")
    assert lines["bomb"].startswith("error [too-large] decoded body passed the 1000000-byte cap")
    assert lines["gone"].startswith("gone [gone] HTTP 410")


def test_a_second_poll_is_conditional(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "--config", str(config), "poll", "--feed", "basic")

    code, out, _ = run(capsys, "--config", str(config), "poll", "--feed", "basic", "--json")

    assert code == EXIT_OK
    report = json.loads(out)
    assert report["outcome"] == "not-modified" and report["items_new"] == 0


def test_feeds_table_shows_each_feed_with_its_own_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "--config", str(config), "poll")

    code, out, _ = run(capsys, "--config", str(config), "feeds")

    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert code == EXIT_OK and out.splitlines()[0].split()[:2] == ["FEED", "STATUS"]
    assert rows["basic"].split()[1] == "ok" and rows["basic"].split()[-1] == "3"
    assert "[not-a-feed]" in rows["html"] and "[too-large]" in rows["bomb"]
    assert rows["gone"].split()[1] == "gone" and "[gone] HTTP 410" in rows["gone"]


def test_feeds_json_redacts_secrets_in_urls(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, err = run(capsys, "--config", str(config), "poll", "--feed", "secret")
    _, listing, _ = run(capsys, "--config", str(config), "feeds", "--json")

    feeds = {f["name"]: f for f in map(json.loads, listing.splitlines())}
    assert feeds["secret"]["url"].endswith("token=***")
    assert "hunter2" not in out + err + listing
    assert "token=***" in err  # the failure was logged, redacted


def test_items_lists_stored_items(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "--config", str(config), "poll", "--feed", "atom")

    code, out, _ = run(capsys, "--config", str(config), "items", "--json", "--limit", "2")

    items = [json.loads(line) for line in out.splitlines()]
    assert code == EXIT_OK and len(items) == 2 and all(i["feed"] == "atom" for i in items)
    assert items[0]["published_at"] >= items[1]["published_at"]


def test_poll_of_an_unknown_feed_is_a_usage_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--config", str(config), "poll", "--feed", "nope")

    assert code == EXIT_INVALID and "no feed named nope" in err


def test_health_is_unhealthy_without_a_daemon_and_healthy_with_one(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "--config", str(config), "poll", "--feed", "basic")
    unhealthy, out, _ = run(capsys, "--config", str(config), "health")
    db = Database(f"sqlite:///{config.parent / 'data' / 'monitor.db'}")
    store.beat(db, "test-daemon", "host", 1, "x", utc_now())
    db.dispose()

    healthy, out_ok, _ = run(capsys, "--config", str(config), "health", "--json")

    assert unhealthy == EXIT_FAILURE and "no daemon heartbeat" in out
    assert healthy == EXIT_OK, out_ok
    assert json.loads(out_ok)["daemons"] == ["test-daemon"]


def test_db_upgrade(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--config", str(config), "db", "upgrade")

    assert code == EXIT_OK and "newest schema" in out


def test_an_unreachable_database_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "monitor.yaml"
    url = f"postgresql://monitor:pw@127.0.0.1:{closed_port()}/monitor"
    path.write_text(f'database_url: "{url}"\n{RULES_CONFIG}', encoding="utf-8")

    code, out, err = run(capsys, "--config", str(path), "feeds")

    assert code == EXIT_UNAVAILABLE and "connection failed" in err and "127.0.0.1" in err
    assert ":pw@" not in err + out


def test_config_errors_print_one_line_each_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text("http:\n  per_host: 0\n  timeout: 3s\nfeeds: []\n", encoding="utf-8")

    code, _, err = run(capsys, "--config", str(path), "feeds")

    assert code == EXIT_INVALID
    assert err.splitlines() == [
        f"{path}:2:3: error: http.per_host: Input should be greater than or equal to 1 (got 0)",
        f"{path}:3:3: error: http.timeout: unknown setting (did you mean 'read_timeout'?)",
        "2 error(s) in the configuration (1 file(s))",
    ]


def test_environment_overrides_the_file(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    other = config.parent / "other.db"
    monkeypatch.setenv("MONITOR_DATABASE_URL", f"sqlite:///{other}")
    monkeypatch.setenv("MONITOR_CONFIG", str(config))

    code, _, _ = run(capsys, "poll", "--feed", "basic")

    assert code == EXIT_OK and other.exists()
    assert not (config.parent / "data" / "monitor.db").exists()


def test_missing_default_config_says_where_it_looked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONITOR_CONFIG", raising=False)

    code, _, err = run(capsys, "feeds")

    assert code == EXIT_INVALID
    expected = (
        "monitor.yaml (default; use --config or MONITOR_CONFIG): error: config file not found"
    )
    assert expected in err


def test_feeds_overdue_check_uses_next_due(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "--config", str(config), "poll")
    db = Database(f"sqlite:///{config.parent / 'data' / 'monitor.db'}")
    report = store.check_health(db, utc_now() + timedelta(hours=2), timedelta(minutes=2))
    db.dispose()

    assert report.feeds_overdue >= 1 and not report.healthy


@pytest.mark.parametrize(("span", "seconds"), [("90s", 90), ("30m", 1800), ("4h", 14400)])
def test_silence_takes_the_same_durations_as_the_config(
    config: Path, capsys: pytest.CaptureFixture[str], span: str, seconds: int
) -> None:
    before = utc_now()

    code, out, _ = run(
        capsys, "--config", str(config), "silence", "add", "--for", span, "--reason", "drill"
    )

    assert code == EXIT_OK and out.startswith("silence 1: every rule until")
    [silence] = store.active_silences(Database(_db_url(config)), before)
    assert timedelta(seconds=seconds) <= silence.until - before < timedelta(seconds=seconds + 60)


@pytest.mark.parametrize("span", ["soon", "0s", "5 parsecs"])
def test_silence_refuses_what_is_not_a_positive_duration(
    config: Path, capsys: pytest.CaptureFixture[str], span: str
) -> None:
    code, _, err = run(
        capsys, "--config", str(config), "silence", "add", "--for", span, "--reason", "drill"
    )

    assert code == EXIT_INVALID and err.startswith("error: --for")


def _db_url(config: Path) -> str:
    return f"sqlite:///{config.parent / 'data' / 'monitor.db'}"


def test_silence_of_an_unknown_rule_is_refused_with_a_suggestion(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--config", str(config), "silence", "add", "--for", "4h", "--reason", "drill"]

    refused, _, err = run(capsys, *argv, "--rule", "alp-bet-army")
    accepted, out, _ = run(capsys, *argv, "--rule", "alp-bet-arms")

    assert refused == EXIT_INVALID
    assert err.startswith("error: --rule: no rule 'alp-bet-army'")
    assert "(did you mean 'alp-bet-arms'?)" in err
    assert accepted == EXIT_OK and out.startswith("silence 1: alp-bet-arms until")
    assert [s.rule for s in store.active_silences(Database(_db_url(config)), utc_now())] == [
        "alp-bet-arms"
    ]


def test_items_of_an_unknown_feed_is_an_error_and_of_a_known_empty_one_is_not(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "--config", str(config), "poll", "--feed", "basic")

    unknown, out, err = run(capsys, "--config", str(config), "items", "--feed", "basics")
    empty, out_empty, err_empty = run(capsys, "--config", str(config), "items", "--feed", "atom")

    assert unknown == EXIT_INVALID and out == ""
    assert err == "error: --feed: no feed named basics (did you mean 'basic'?)\n"
    assert (empty, out_empty, err_empty) == (EXIT_OK, "", "")


def test_matches_of_an_unknown_rule_is_an_error_and_of_a_quiet_one_is_not(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unknown, out, err = run(capsys, "--config", str(config), "matches", "--rule", "alp-bet-army")
    quiet, out_quiet, _ = run(capsys, "--config", str(config), "matches", "--rule", "alp-bet-arms")

    assert unknown == EXIT_INVALID and out == ""
    assert err.startswith("error: --rule: no rule 'alp-bet-army'")
    assert "(did you mean 'alp-bet-arms'?)" in err
    assert (quiet, out_quiet) == (EXIT_OK, "")


def test_a_recursive_alias_in_the_config_is_an_error_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(f"{RULES_CONFIG}feeds: &feeds\n  - *feeds\n", encoding="utf-8")

    code, _, err = run(capsys, "--config", str(path), "feeds")

    assert code == EXIT_INVALID
    assert f"{path}:3:8: error: recursive alias" in err and "Traceback" not in err


ROOT = Path(__file__).resolve().parent.parent
SIGPIPE_STATUS = 141  # 128 + SIGPIPE: what a shell reports for `yes | head`


def _monitor(*argv: str) -> list[str]:
    return [sys.executable, "-m", "monitor", *argv]


@pytest.mark.parametrize("command", [["rules", "check"], ["items"], ["feeds", "--json"]])
def test_a_reader_that_is_gone_ends_the_command_quietly(
    config: Path, capsys: pytest.CaptureFixture[str], command: list[str]
) -> None:
    run(capsys, "--config", str(config), "poll")
    argv = _monitor("--config", str(config), *command)
    with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # like `| head -n 0`: gone before the first line is written

        err = proc.stderr.read().decode()
        code = proc.wait(timeout=60)

    assert (code, err) == (SIGPIPE_STATUS, "")


def test_piping_a_long_output_to_head_ends_quietly(tmp_path: Path, config: Path) -> None:
    items = "".join(
        f"<item><guid>g{i}</guid><title>Alphaland ships artillery to Betania, day {i}</title>"
        "</item>"
        for i in range(2000)
    )
    feed = tmp_path / "long.xml"
    feed.write_text(f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>")
    argv = _monitor("--config", str(config), "rules", "test", str(feed), "--format", "jsonl")
    with (
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT) as writer,
        subprocess.Popen(["head", "-n", "1"], stdin=writer.stdout, stdout=subprocess.PIPE) as head,
    ):
        assert writer.stdout is not None and writer.stderr is not None
        writer.stdout.close()  # only head reads it now, as in a shell pipeline

        first, _ = head.communicate(timeout=60)
        err = writer.stderr.read().decode()
        code = writer.wait(timeout=60)

    assert json.loads(first)["rule"] == "alp-bet-arms"
    assert (code, err) == (SIGPIPE_STATUS, "")
