"""Feedback that measures the rules: marks on matches, precision per rule, version and
week, `monitor feedback`, `monitor rules stats`, and `monitor backtest` over the marks."""

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from monitor import store
from monitor.cli import EXIT_FAILURE, EXIT_INVALID, EXIT_OK, main
from monitor.store import Database
from tests.conftest import RULES_DIR
from tests.webdata import ARMS, NOW, PACT, fill


def arms_ids(db: Database) -> list[int]:
    page = store.match_page(db, store.MatchFilter(rule=ARMS), limit=1000)
    return sorted(m.id for m in page.rows)


def test_a_mark_is_kept_replaced_and_cleared(db: Database) -> None:
    filled = fill(db)
    match_id = arms_ids(db)[-1]

    first = store.set_feedback(db, match_id, False, "sports page", NOW)
    again = store.set_feedback(db, match_id, True, None, NOW + timedelta(minutes=1))

    assert first is not None and not first.relevant and first.note == "sports page"
    assert again is not None and again.relevant and again.note is None
    assert store.feedback_for(db, [match_id])[match_id] == again
    assert store.clear_feedback(db, match_id)
    assert not store.clear_feedback(db, match_id)
    assert match_id not in store.feedback_for(db, [match_id, filled.marked_relevant])


def test_marking_a_match_that_does_not_exist_stores_nothing(db: Database) -> None:
    fill(db)

    assert store.set_feedback(db, 999_999, True, None, NOW) is None
    assert set(store.rule_precision(db)) == {ARMS}


def test_precision_counts_marks_per_rule_version_and_week(db: Database) -> None:
    filled = fill(db)  # one ARMS match marked relevant
    ids = arms_ids(db)
    for match_id in ids[-4:-1]:  # three more ARMS matches, the oldest ones, rejected
        store.set_feedback(db, match_id, False, None, NOW)

    found = store.rule_precision(db)[ARMS]

    assert (found.overall.relevant, found.overall.rejected) == (1, 3)
    assert found.overall.precision == pytest.approx(0.25)
    [(version, tally)] = found.by_version
    assert len(version) == 12 and tally == found.overall
    assert sum(t.marked for _, t in found.by_week) == 4
    assert all(week.weekday() == 0 for week, _ in found.by_week)  # weeks start on Monday
    assert filled.marked_relevant in ids


def test_marked_items_carry_the_item_for_backtests(db: Database) -> None:
    filled = fill(db)

    [marked] = store.marked_items(db)

    assert marked.match_id == filled.marked_relevant and marked.relevant
    assert marked.rule == ARMS and marked.note == "a real shipment"
    assert "Betania" in marked.item.title and marked.feed in ("wire-a", "wire-b")


# --- the command line ------------------------------------------------------------------


@pytest.fixture
def config(tmp_path: Path) -> Path:
    db = Database(f"sqlite:///{tmp_path / 'monitor.db'}")
    db.upgrade()
    fill(db)
    db.dispose()
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f'database_url: "sqlite:///{tmp_path / "monitor.db"}"\n'
        f'rules_dir: "{RULES_DIR}"\nseeds_dir: "{RULES_DIR / "seeds"}"\n',
        encoding="utf-8",
    )
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def open_db(config: Path) -> Database:
    return Database(f"sqlite:///{config.parent / 'monitor.db'}")


def test_feedback_command_marks_a_match_and_prints_the_new_precision(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    match_id = arms_ids(open_db(config))[1]  # [0] is marked relevant already

    code, out, _ = run(
        capsys, "--config", str(config), "feedback", str(match_id), "--not-relevant", "--note", "x"
    )

    assert code == EXIT_OK
    assert f"match {match_id} ({ARMS}, version " in out and "marked not relevant" in out
    assert f"{ARMS}: precision 50% (1 of 2)" in out
    mark = store.feedback_for(open_db(config), [match_id])[match_id]
    assert not mark.relevant and mark.note == "x"


def test_feedback_on_an_unknown_match_is_an_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "--config", str(config), "feedback", "424242", "--relevant")

    assert code == EXIT_INVALID and "no match 424242" in err


def test_rules_stats_shows_precision_per_rule_version_and_week(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = arms_ids(open_db(config))
    store.set_feedback(open_db(config), ids[1], False, None, NOW)

    code, out, _ = run(capsys, "--config", str(config), "rules", "stats")
    json_code, json_out, _ = run(capsys, "--config", str(config), "rules", "stats", "--json")

    assert code == EXIT_OK == json_code
    row = next(line for line in out.splitlines() if line.startswith(ARMS))
    assert row.split()[2:] == ["2", "1", "1", "50%"]
    assert "    version " in out and "    week of " in out
    assert any(line.startswith(PACT) and line.rstrip().endswith("–") for line in out.splitlines())
    stats = {s["rule"]: s for s in map(json.loads, json_out.splitlines())}
    assert stats[ARMS]["precision"] == 0.5 and stats[ARMS]["rejected"] == 1
    assert stats[PACT]["marked"] == 0 and stats[PACT]["precision"] is None
    date.fromisoformat(stats[ARMS]["by_week"][0]["week"])


def test_backtest_reports_confirmed_matches_lost_and_rejected_ones_dropped(
    config: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given an analyst's marks: the oldest ARMS match relevant (a "ships artillery"
    # headline or another), and a "missiles" headline rejected
    db = open_db(config)
    rows = store.match_page(db, store.MatchFilter(rule=ARMS), limit=1000).rows
    missiles = [m for m in rows if "missiles" in m.title]
    artillery = [m for m in rows if "artillery" in m.title]
    store.set_feedback(db, missiles[0].id, False, "not a transfer", NOW)
    store.set_feedback(db, artillery[0].id, True, None, NOW)
    # And a changed rule set whose WEAPONS no longer has "missiles" nor "artillery"
    changed = tmp_path / "changed"
    shutil.copytree(RULES_DIR, changed)
    weapons = changed / "vocab" / "weapons.yaml"
    text = weapons.read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if "missile" not in line and "artiller" not in line]
    weapons.write_text("\n".join(kept) + "\n", encoding="utf-8")

    # When the change is backtested, and the unchanged rules too
    code, out, _ = run(capsys, "--config", str(config), "backtest", "--rules", str(changed))
    same_code, same_out, _ = run(capsys, "--config", str(config), "backtest")

    # Then the relevant artillery match is lost (a regression: exit 1) and the rejected
    # missiles one dropped; the unchanged rules keep every mark
    assert code == EXIT_FAILURE
    assert f"LOST relevant: {artillery[0].feed}: {artillery[0].title}" in out
    assert f"dropped not relevant: {missiles[0].feed}: {missiles[0].title}" in out
    assert "match(es) marked relevant would be lost" in out
    assert same_code == EXIT_OK
    row = same_out.split("feedback:", 1)[1].splitlines()[2]  # the marks' table, ARMS row
    assert row.startswith(ARMS)
    assert "LOST relevant" not in same_out and row.split()[-3:] == ["67%", "→", "67%"]
