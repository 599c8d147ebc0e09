"""Problems a new user meets, told in one line that says where and what: a digest cron
APScheduler cannot run, an unusable data folder or database URL, a notify: typo; and
commands that only read never change the daemon's feeds."""

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor import store
from monitor.cli import EXIT_INVALID, EXIT_OK, EXIT_UNAVAILABLE, main
from monitor.settings import FeedConfig
from monitor.store import Database
from tests.conftest import RULES_CONFIG, RULES_DIR


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_digest_cron_that_cannot_run_is_refused_at_load_with_its_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a digest whose cron has five fields but an hour of 25
    monkeypatch.setenv("DESK_URL", "json://127.0.0.1:9/")
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f'database_url: "sqlite:///{tmp_path / "m.db"}"\n{RULES_CONFIG}'
        "targets:\n  - name: desk\n    urls_env: DESK_URL\n    mode: digest\n"
        "    digest: {cron: '0 25 * * *'}\n",
        encoding="utf-8",
    )

    # When any command loads the config (not only `run`)
    code, _, err = run(capsys, "--config", str(path), "feeds")

    # Then it is refused with the cron's file:line
    assert code == EXIT_INVALID
    assert err.startswith(f"{path}:8:14: error: targets[0].digest.cron:")
    assert "'0 25 * * *'" in err


def test_an_uncreatable_data_folder_is_one_line_naming_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a SQLite file under a path where a plain file sits in the way of its folder
    blocker = tmp_path / "data"
    blocker.write_text("not a folder")
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f'database_url: "sqlite:///{blocker / "monitor.db"}"\n{RULES_CONFIG}', encoding="utf-8"
    )

    code, _, err = run(capsys, "--config", str(path), "items")

    assert code == EXIT_UNAVAILABLE
    assert err.startswith(f"error: cannot create the data folder {blocker}")
    assert "running as user" in err and len(err.strip().splitlines()) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_an_unwritable_data_folder_is_one_line_naming_the_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f'database_url: "sqlite:///{folder / "monitor.db"}"\n{RULES_CONFIG}', encoding="utf-8"
    )
    try:
        code, _, err = run(capsys, "--config", str(path), "items")
    finally:
        folder.chmod(0o700)

    assert code == EXIT_UNAVAILABLE
    assert "is not writable by user" in err and "Traceback" not in err


@pytest.mark.parametrize("url", ["sqlite//data.db", "mysql+nosuchdriver://h/db"])
def test_a_bad_database_url_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(f'database_url: "{url}"\n{RULES_CONFIG}', encoding="utf-8")

    code, _, err = run(capsys, "--config", str(path), "items")

    assert code == EXIT_UNAVAILABLE
    assert err.startswith("error: invalid database URL") and len(err.strip().splitlines()) == 1


def test_commands_with_another_config_leave_the_daemons_feeds_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the daemon's feeds in the database
    db_url = f"sqlite:///{tmp_path / 'm.db'}"
    db = Database(db_url)
    db.upgrade()
    daemon_feeds = [
        FeedConfig(name=n, url=f"https://{n}.example.org/rss", interval="15m")
        for n in ("wire", "daily")
    ]
    store.sync_feeds(db, daemon_feeds, datetime.now(UTC))
    # and a second config that lists one other feed
    other = tmp_path / "other.yaml"
    other.write_text(
        f'database_url: "{db_url}"\n{RULES_CONFIG}'
        'feeds:\n  - {name: blog, url: "http://127.0.0.1:9/rss"}\n',
        encoding="utf-8",
    )

    # When `feeds` and `poll` run with it
    code, out, _ = run(capsys, "--config", str(other), "feeds")
    run(capsys, "--config", str(other), "poll")

    # Then the daemon's feeds are still active; the new one shows, then is added by `poll`
    assert code == EXIT_OK and "blog" in out and "new" in out
    active = {v.name for v in store.list_feeds(db)}
    db.dispose()
    assert active == {"wire", "daily", "blog"}


def test_db_sync_feeds_is_the_explicit_way_to_retire_feeds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_url = f"sqlite:///{tmp_path / 'm.db'}"
    db = Database(db_url)
    db.upgrade()
    old = FeedConfig(name="old", url="https://old.example.org/rss", interval="15m")
    store.sync_feeds(db, [old], datetime.now(UTC))
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f'database_url: "{db_url}"\n{RULES_CONFIG}'
        'feeds:\n  - {name: new, url: "https://new.example.org/rss"}\n',
        encoding="utf-8",
    )

    code, out, _ = run(capsys, "--config", str(path), "db", "sync-feeds")

    assert code == EXIT_OK and out.startswith("1 feeds in")
    assert {v.name for v in store.list_feeds(db)} == {"new"}
    assert {v.name for v in store.list_feeds(db, include_inactive=True)} == {"new", "old"}
    db.dispose()


def _rules_with_notify(tmp_path: Path, notify: str) -> Path:
    """The fixture rules, with `notify:` on the first rule (line 4 of rules.yaml)."""
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    text = (rules / "rules.yaml").read_text(encoding="utf-8")
    text = text.replace("    level: high\n", f"    level: high\n    notify: [{notify}]\n", 1)
    (rules / "rules.yaml").write_text(text, encoding="utf-8")
    return rules


def _config_with_target(tmp_path: Path, rules: Path) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f'database_url: "sqlite:///{tmp_path / "m.db"}"\n'
        f'rules_dir: "{rules}"\nseeds_dir: "{rules / "seeds"}"\n'
        "targets:\n  - {name: analysts, urls: ['json://127.0.0.1:9/']}\n",
        encoding="utf-8",
    )
    return path


def test_rules_check_refuses_a_notify_target_the_config_does_not_have(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = _rules_with_notify(tmp_path, "analystz")
    path = _config_with_target(tmp_path, rules)

    code, _, err = run(capsys, "--config", str(path), "rules", "check")

    assert code == EXIT_INVALID
    line = next(
        n
        for n, t in enumerate((rules / "rules.yaml").read_text().splitlines(), 1)
        if "notify:" in t
    )
    assert err.startswith(
        f"{rules / 'rules.yaml'}:{line}:5: error: notify: rule 'alp-bet-arms' names unknown "
        "target 'analystz' (did you mean 'analysts'?)"
    )


def test_rules_check_accepts_a_notify_target_the_config_has(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = _rules_with_notify(tmp_path, "analysts")
    path = _config_with_target(tmp_path, rules)

    code, out, _ = run(capsys, "--config", str(path), "rules", "check")

    assert code == EXIT_OK and out.rstrip().endswith(": ok")


def test_the_daemon_refuses_to_start_on_a_notify_typo_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = _rules_with_notify(tmp_path, "analystz")
    path = _config_with_target(tmp_path, rules)

    code, _, err = run(capsys, "--config", str(path), "run")

    assert code == EXIT_INVALID
    assert f"{rules / 'rules.yaml'}:" in err and "unknown target 'analystz'" in err
    assert ":1:" not in err.split("error:")[0]  # the notify: line, not the rule's first line
