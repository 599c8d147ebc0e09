"""The shipped rules/, actors, vocabulary and seeds load with zero errors, and every inline
example behaves as its rule says (so `rules check` is part of CI)."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.engine.loader import load_ruleset
from monitor.engine.match import verify_examples
from monitor.engine.ruleset import RuleSet

ROOT = Path(__file__).resolve().parent.parent
SEED_RULES = ("ru-dprk-arms", "quad-dprk-statement", "cn-rok-meeting")


@pytest.fixture(scope="module")
def shipped() -> RuleSet:
    return load_ruleset(ROOT / "rules", ROOT / "seeds")


def test_the_seed_rules_are_shipped(shipped: RuleSet) -> None:
    assert set(SEED_RULES) <= {rule.id for rule in shipped.rules}


def test_every_inline_example_behaves(shipped: RuleSet) -> None:
    assert verify_examples(shipped, datetime.now(UTC).date()) == []


def test_every_rule_has_examples_both_ways(shipped: RuleSet) -> None:
    for rule in shipped.rules:
        assert any(e.should_match for e in rule.examples), rule.id
        assert any(not e.should_match for e in rule.examples), rule.id


@pytest.mark.parametrize("actor", ["RUS", "PRK", "KOR", "CHN", "USA", "JPN", "IND", "AUS", "QUAD"])
def test_the_required_actors_exist(shipped: RuleSet, actor: str) -> None:
    assert actor in shipped.actors


def test_the_quad_is_a_group_of_its_four_members(shipped: RuleSet) -> None:
    assert set(shipped.actors["QUAD"].members) == {"USA", "JPN", "IND", "AUS"}
