"""The shipped rules on the project's own labelled sets (`eval/`): a rule or dictionary change
that loses what they caught, or starts firing where they should stay quiet, fails here
before it reaches anyone's alerts. The floors sit just under what the rules score today
(eval/README.md has the scores and how the sets were written)."""

import csv
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.engine.loader import load_ruleset
from monitor.engine.match import match_items
from monitor.engine.ruleset import RuleSet
from monitor.ingest.document import read_document

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "eval"
SIGNALS = ("ru-dprk-arms", "quad-dprk-statement", "cn-rok-meeting")

# set -> (macro-F1 floor, non-English positives it may miss)
FLOORS = {
    "written-1/eu": (0.96, 1),
    "written-1/asia": (0.97, 0),
    "written-2/eu": (0.93, 4),
    "written-2/asia": (0.98, 0),
    "written-3/eu": (0.97, 4),
    "written-3/asia": (0.97, 1),
    "written-4/eu": (0.94, 7),
    "written-4/asia": (0.97, 2),
    "written-5/eu": (0.98, 2),
    "written-5/asia": (0.96, 1),
    "written-6/eu": (0.93, 6),
    "written-7/eu": (0.95, 7),
    "written-8/asia": (0.98, 1),
    "written-6/asia": (0.94, 5),
}


@pytest.fixture(scope="module")
def shipped() -> RuleSet:
    return load_ruleset(ROOT / "rules", ROOT / "seeds")


def score(ruleset: RuleSet, name: str) -> tuple[float, int]:
    """Macro-F1 over the three signals, and non-English positives missed."""
    feed = EVAL / f"{name}-feed.xml"
    _, items = read_document(
        feed.read_bytes(), None, url=feed.as_uri(), language=None, fetched_at=datetime.now(UTC)
    )
    with (EVAL / f"{name}-labels.csv").open(encoding="utf-8") as labels:
        rows = list(csv.DictReader(labels))
    gold = {row["guid"]: set(row["signals"].split()) for row in rows}
    lang = {row["guid"]: row["lang"] for row in rows}
    guid_of = {item.key: item.guid for item in items}
    fired: dict[str, set[str]] = {guid: set() for guid in gold}
    for match in match_items(ruleset, items):
        fired[guid_of[match.item_key] or ""].add(match.rule)
    f1s = []
    for signal in SIGNALS:
        tp = sum(1 for g in gold if signal in gold[g] and signal in fired[g])
        fp = sum(1 for g in gold if signal not in gold[g] and signal in fired[g])
        fn = sum(1 for g in gold if signal in gold[g] and signal not in fired[g])
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0)
    missed = sum(1 for g in gold if lang[g] != "en" and gold[g] and not gold[g] & fired[g])
    return sum(f1s) / len(f1s), missed


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_the_rules_keep_their_score_on_the_written_sets(shipped: RuleSet, name: str) -> None:
    floor, may_miss = FLOORS[name]

    macro_f1, missed = score(shipped, name)

    assert macro_f1 >= floor, f"{name}: macro-F1 {macro_f1:.3f} < {floor}"
    assert missed <= may_miss, f"{name}: {missed} non-English positives missed"


def test_the_score_falls_when_a_rule_goes_blind(tmp_path: Path) -> None:
    # the check itself can fail: without its meeting words cn-rok-meeting finds nothing
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    codes = sorted(path.stem for path in (rules / "languages").glob("*.yaml"))
    (rules / "vocab" / "meeting.yaml").write_text(
        "id: MEETING\ndescription: none\nterms:\n" + "".join(f"  {c}: []\n" for c in codes),
        encoding="utf-8",
    )

    macro_f1, _ = score(load_ruleset(rules, ROOT / "seeds"), "written-1/eu")

    assert macro_f1 < FLOORS["written-1/eu"][0]
