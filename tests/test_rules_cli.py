"""`monitor rules check`, `rules test`, `backtest` and `matches` as a user runs them."""

import json
import shutil
from pathlib import Path

import pytest

from monitor.cli import EXIT_INVALID, EXIT_OK, main
from tests.conftest import RULES_DIR
from tests.feedserver import FeedServer

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><guid>g1</guid><title>Alphaland ships artillery to Betania</title></item>
<item><guid>g2</guid><title>Alphaland tourists tour a weapons museum in Betania</title>
<description>A ski resort opened.</description></item>
<item><guid>g3</guid><title>Gammaria holds elections</title></item>
</channel></rss>"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    (tmp_path / "monitor.yaml").write_text(
        f'database_url: "sqlite:///{tmp_path / "m.db"}"\n'
        f'rules_dir: "{rules}"\nseeds_dir: "{rules / "seeds"}"\n',
        encoding="utf-8",
    )
    (tmp_path / "feed.xml").write_text(FEED, encoding="utf-8")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_check_passes_on_valid_rules(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--config", str(workspace / "monitor.yaml"), "rules", "check")

    assert code == EXIT_OK, err
    assert "2 rules, 7 examples" in out and out.rstrip().endswith("ok")


def test_check_reports_one_line_per_error_and_exits_2(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = workspace / "rules" / "rules.yaml"
    rules.write_text(
        rules.read_text()
        .replace("evidence: WEAPONS", "evidence: WEAPON")
        .replace("level: medium", "level: urgent")
    )

    code, _, err = run(capsys, "--config", str(workspace / "monitor.yaml"), "rules", "check")

    assert code == EXIT_INVALID
    assert err.splitlines() == [
        f"{rules}:8:5: error: rules[0].evidence: unknown vocabulary set 'WEAPON'"
        " (did you mean 'WEAPONS'?)",
        f"{rules}:22:5: error: rules[1].level: Input should be 'low', 'medium', 'high' or"
        " 'critical' (got 'urgent')",
        "2 error(s) in the rules (1 file(s))",
    ]


def test_check_runs_the_inline_examples(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = workspace / "rules" / "rules.yaml"
    rules.write_text(rules.read_text().replace("    exclude: TOURISM\n", ""))

    code, _, err = run(capsys, "--config", str(workspace / "monitor.yaml"), "rules", "check")

    assert code == EXIT_INVALID
    assert f"{rules}:15:11: error: example should not match alp-bet-arms but does" in err


def test_check_strict_fails_on_warnings(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unused = workspace / "rules" / "vocab" / "unused.yaml"
    unused.write_text("id: UNUSED\nterms: {en: [spare]}\n")

    relaxed, _, _ = run(capsys, "--config", str(workspace / "monitor.yaml"), "rules", "check")
    strict, _, err = run(
        capsys, "--config", str(workspace / "monitor.yaml"), "rules", "check", "--strict"
    )

    assert (relaxed, strict) == (EXIT_OK, EXIT_INVALID)
    assert f"{unused}:1:1: warning: vocabulary set 'UNUSED' is not used by any rule" in err


def test_rules_test_prints_matches_as_jsonl(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "--config",
        str(workspace / "monitor.yaml"),
        "rules",
        "test",
        str(workspace / "feed.xml"),
        "--format",
        "jsonl",
    )

    [match] = [json.loads(line) for line in out.splitlines()]
    assert code == EXIT_OK
    assert (match["rule"], match["guid"], match["title"]) == (
        "alp-bet-arms",
        "g1",
        "Alphaland ships artillery to Betania",
    )
    assert match["score"] > 0 and {e["ref"] for e in match["evidence"]} == {
        "ALP",
        "BET",
        "WEAPONS",
    }


def test_rules_test_explains_near_misses(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys,
        "--config",
        str(workspace / "monitor.yaml"),
        "rules",
        "test",
        str(workspace / "feed.xml"),
        "--explain",
    )

    assert code == EXIT_OK
    assert "MATCH alp-bet-arms [high" in out
    assert "near miss alp-bet-arms on g2: excluded by TOURISM: tourists" in out
    assert "g3" not in out  # no actor of any rule: not a near miss


def test_rules_test_reports_an_unreadable_feed(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = workspace / "broken.xml"
    broken.write_text("<html><body>not a feed</body></html>")

    code, _, err = run(
        capsys, "--config", str(workspace / "monitor.yaml"), "rules", "test", str(broken)
    )

    assert code == 1 and f"{broken}: error: not a feed" in err


def test_backtest_compares_current_rules_with_recorded_matches(
    workspace: Path, capsys: pytest.CaptureFixture[str], feed_server: FeedServer
) -> None:
    feed_server.set_feed("backtest.xml", FEED.encode())
    config = workspace / "monitor.yaml"
    config.write_text(
        config.read_text()
        + f'feeds:\n  - {{name: f, url: "{feed_server.url("/feeds/backtest.xml")}"}}\n'
    )
    run(capsys, "--config", str(config), "poll")
    rules = workspace / "rules" / "rules.yaml"
    rules.write_text(rules.read_text().replace("    exclude: TOURISM\n", ""))

    code, out, _ = run(capsys, "--config", str(config), "backtest")

    lines = out.splitlines()
    row = next(line for line in lines if line.startswith("alp-bet-arms"))
    assert code == EXIT_OK and lines[0] == "3 stored items"
    assert row.split()[:5] == ["alp-bet-arms", "2", "1", "1", "0"]
    assert "    + f: Alphaland tourists tour a weapons museum in Betania" in lines


def test_matches_lists_recorded_matches_with_their_evidence(
    workspace: Path, capsys: pytest.CaptureFixture[str], feed_server: FeedServer
) -> None:
    feed_server.set_feed("matches.xml", FEED.encode())
    config = workspace / "monitor.yaml"
    config.write_text(
        config.read_text()
        + f'feeds:\n  - {{name: f, url: "{feed_server.url("/feeds/matches.xml")}"}}\n'
    )
    run(capsys, "--config", str(config), "poll")

    code, out, _ = run(capsys, "--config", str(config), "matches")

    assert code == EXIT_OK
    assert "alp-bet-arms [high" in out and "f: Alphaland ships artillery to Betania" in out
    assert "why: Alphaland (ALP), artillery (WEAPONS), Betania (BET)" in out


@pytest.mark.parametrize("where", ["empty", "missing"])
def test_check_of_an_empty_or_missing_rules_folder_is_an_error(
    workspace: Path, capsys: pytest.CaptureFixture[str], where: str
) -> None:
    folder = workspace / "elsewhere"
    if where == "empty":
        folder.mkdir()
    config = workspace / "monitor.yaml"
    config.write_text(config.read_text().replace(str(workspace / "rules") + '"', f'{folder}"', 1))

    by_config, out, err = run(capsys, "--config", str(config), "rules", "check")
    by_path, out2, err2 = run(capsys, "--config", str(config), "rules", "check", str(folder))

    assert (by_config, by_path) == (EXIT_INVALID, EXIT_INVALID)
    assert out == out2 == "" and "ok" not in err + err2
    expected = f"no rule files (*.yaml) in {folder}" if where == "empty" else str(folder)
    assert expected in err and expected in err2


def test_check_of_a_misspelt_folder_does_not_read_its_parent(
    workspace: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(workspace)  # holds monitor.yaml, which is no rule

    code, out, err = run(capsys, "--config", "monitor.yaml", "rules", "check", "rulez")

    assert code == EXIT_INVALID and out == ""
    assert err.splitlines() == ["error: rulez: no such file or folder"]


def test_check_still_takes_a_rule_file_for_its_folder(
    workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = workspace / "rules"

    code, out, _ = run(
        capsys,
        "--config",
        str(workspace / "monitor.yaml"),
        "rules",
        "check",
        str(rules / "rules.yaml"),
    )

    assert code == EXIT_OK and out.startswith(f"{rules}: 2 rules") and out.rstrip().endswith("ok")
