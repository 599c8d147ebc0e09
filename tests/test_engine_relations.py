"""The relation constructs of the rule language: `near`, `item`, `implies`, the `clause` dyad
scope, lists with members that are not actors, and vocabulary guards. Each test builds a small
rule over the basic fixture (Alphaland, Betania, Gammaria) so it fails without the construct."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.engine.loader import load_ruleset
from monitor.engine.match import match_item, verify_examples
from monitor.engine.ruleset import RuleSet
from monitor.errors import RuleError
from monitor.model import Item

BASIC = Path(__file__).parent / "data" / "rules" / "basic"
HEAD = """\
id: test-rule
title: A test rule
seed: seeds/fixture.yaml#arms
level: high
"""


def _rules(tmp_path: Path, body: str, vocab: dict[str, str] | None = None) -> RuleSet:
    root = tmp_path / "rules"
    shutil.copytree(BASIC, root)
    for name, text in (vocab or {}).items():
        (root / "vocab" / f"{name}.yaml").write_text(text, encoding="utf-8")
    (root / "rules.yaml").write_text(HEAD + body, encoding="utf-8")
    return load_ruleset(root, root / "seeds")


def _item(title: str, summary: str = "") -> Item:
    return Item(
        key="k",
        guid=None,
        link=None,
        title=title,
        summary=summary,
        author=None,
        published_at=datetime(2024, 3, 1, 9, tzinfo=UTC),
        date_source="feed",
        language=None,
    )


def _fires(ruleset: RuleSet, title: str, summary: str = "") -> bool:
    return bool(match_item(ruleset, _item(title, summary))[0])


def _reason(ruleset: RuleSet, title: str, summary: str = "") -> str:
    misses = match_item(ruleset, _item(title, summary))[1]
    return misses[0].reason if misses else ""


# --- near ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "fires"),
    [
        ("Betania buys Alphalander missiles", True),  # adjacent
        ("Betania buys missiles made in Alphaland", True),  # two words between
        ("Alphaland says Betania bought many new and very old missiles", False),  # too far
    ],
)
def test_near_needs_its_two_parts_within_n_words(tmp_path: Path, title: str, fires: bool) -> None:
    ruleset = _rules(
        tmp_path,
        "dyad: {a: ALP, b: BET}\nevidence: {near: [{actor: ALP}, WEAPONS], words: 3}\n",
    )

    assert _fires(ruleset, title) is fires


def test_a_near_miss_describes_near(tmp_path: Path) -> None:
    ruleset = _rules(
        tmp_path, "dyad: {a: ALP, b: BET}\nevidence: {near: [{actor: ALP}, WEAPONS], words: 0}\n"
    )

    reason = _reason(ruleset, "Alphaland says Betania bought missiles")

    assert "actor ALP within 0 words of WEAPONS" in reason


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("{near: [WEAPONS]}", "near takes a list of two conditions"),
        ("{near: [WEAPONS, STATEMENT], words: -1}", "words: a whole number from 0 to 30"),
        (
            "{near: [WEAPONS, STATEMENT], within: 2}",
            "near takes only `words` and `in_order` beside it",
        ),
    ],
)
def test_a_bad_near_is_reported(tmp_path: Path, condition: str, message: str) -> None:
    with pytest.raises(RuleError) as caught:
        _rules(tmp_path, f"dyad: {{a: ALP, b: BET}}\nevidence: {condition}\n")

    assert any(message in p.message for p in caught.value.problems)


# --- item ---------------------------------------------------------------------------------


def test_item_looks_at_the_whole_item_not_only_the_dyads_sentence(tmp_path: Path) -> None:
    ruleset = _rules(
        tmp_path,
        "dyad: {a: ALP, b: BET}\nscope: {dyad: sentence, evidence: same}\n"
        "evidence: WEAPONS\nexclude: {item: TOURISM}\n",
    )
    title, summary = "Alphaland ships missiles to Betania", "Tourists watched the ship leave."

    assert _fires(ruleset, title)
    assert not _fires(ruleset, title, summary)


# --- near_title ---------------------------------------------------------------------------


NEAR_TITLE = (
    "dyad: {a: ALP, b: BET}\nscope: {dyad: sentence, evidence: EVIDENCE}\nevidence: WEAPONS\n"
)


@pytest.mark.parametrize(
    ("scope", "title", "fires"),
    [
        ("near_title", "Missiles on show in Alphaland", True),  # the title names one side
        ("near", "Missiles on show in Alphaland", False),  # `near` never looks back at it
        ("near_title", "Missiles on show", False),  # the title names neither side
        ("near_title", "Gammaria fires missiles at Alphaland", False),  # another actor's event
    ],
)
def test_near_title_takes_evidence_from_a_title_that_names_one_side(
    tmp_path: Path, scope: str, title: str, fires: bool
) -> None:
    ruleset = _rules(tmp_path, NEAR_TITLE.replace("EVIDENCE", scope))
    summary = "Envoys of Alphaland and Betania spoke for an hour."

    assert _fires(ruleset, title, summary) is fires


def test_a_rule_example_can_carry_a_body(tmp_path: Path) -> None:
    body = NEAR_TITLE.replace("EVIDENCE", "near_title") + (
        "examples:\n  match:\n    - text: Missiles on show in Alphaland\n"
        "      summary: Envoys of Alphaland and Betania spoke for an hour.\n"
    )
    ruleset = _rules(tmp_path, body)

    assert verify_examples(ruleset, datetime(2024, 3, 1, tzinfo=UTC).date()) == []
    broken = _rules(tmp_path / "b", body.replace("near_title", "near"))
    assert (
        "should match"
        in verify_examples(broken, datetime(2024, 3, 1, tzinfo=UTC).date())[0].message
    )


# --- near in order --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "fires"),
    [
        ("Alphaland missiles fired at Betania", True),  # "at" before Betania: the target
        ("Betania strikes at dawn with Alphaland missiles", False),  # after: Betania attacks
    ],
)
def test_in_order_wants_the_first_part_first(tmp_path: Path, title: str, fires: bool) -> None:
    body = (
        "dyad: {a: ALP, b: BET}\nevidence: WEAPONS\n"
        "exclude: {none: [{near: [{regex: '(?i)\\bat\\b'}, {actor: BET}], words: 1,"
        " in_order: true}]}\n"
    )
    ruleset = _rules(tmp_path, body)

    assert _fires(ruleset, title) is fires


# --- with_title ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scope", "title", "fires"),
    [
        ("with_title", "The Pact meets in Alphaland", True),  # Alphaland from the title
        ("sentence", "The Pact meets in Alphaland", False),
        ("with_title", "The Pact meets", False),  # the title names neither side
    ],
)
def test_with_title_pairs_a_body_sentence_with_the_side_the_title_names(
    tmp_path: Path, scope: str, title: str, fires: bool
) -> None:
    ruleset = _rules(tmp_path, f"dyad: {{a: ALP, b: BET}}\nscope: {scope}\nevidence: WEAPONS\n")

    assert _fires(ruleset, title, "Its statement condemned missiles sold to Betania.") is fires


# --- implies ------------------------------------------------------------------------------


IMPLIES = """\
dyad: {a: ALP, b: BET}
evidence: WEAPONS
implies:
  - actor: ALP
    when: {all: [{regex: '(?i)\\bthe western neighbour\\b'}, {item: {actor: ALP}}]}
"""


def test_an_implied_actor_counts_where_its_condition_holds(tmp_path: Path) -> None:
    ruleset = _rules(tmp_path, IMPLIES)
    title = "Alphaland is in the news"
    summary = "The western neighbour sold missiles to Betania."

    matches, _ = match_item(ruleset, _item(title, summary))

    assert matches
    implied = [e for e in matches[0].evidence if e.via == "implied"]
    assert [(e.ref, e.text) for e in implied] == [("ALP", "The western neighbour")]


def test_an_implied_actor_needs_its_whole_condition(tmp_path: Path) -> None:
    ruleset = _rules(tmp_path, IMPLIES)

    # the item never names Alphaland, so "the western neighbour" stands for nobody
    assert not _fires(ruleset, "The western neighbour sold missiles to Betania")


def test_implies_names_a_known_actor(tmp_path: Path) -> None:
    body = "dyad: {a: ALP, b: BET}\nimplies:\n  - actor: ZZZ\n    when: WEAPONS\n"

    with pytest.raises(RuleError) as caught:
        _rules(tmp_path, body)

    assert any("implies[0].actor: unknown actor 'ZZZ'" in p.message for p in caught.value.problems)


# --- the clause scope ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "fires"),
    [
        ("Alphaland ships missiles to Betania", True),
        # the first actor opens the sentence: the subject of both clauses
        ("Alphaland tests missiles, ships more shells to Betania", True),
        # two objects of separate clauses
        ("Gammaria agrees to pressure Alphaland, condemns Betania's missile tests", False),
        ("Gammaria praises Alphaland; Betania tests missiles", False),
        # a comma before a word that continues the clause is no break
        ("Gammaria says Alphaland, which ships missiles to Betania, is a threat", True),
        # a short aside between commas does not end the clause it interrupts
        ("Gammaria says Alphaland, according to spies, ships missiles to Betania", True),
        # a list whose third member is no actor, at either end, is still a list
        ("Sanctions hit firms in Omegia, Alphaland and Betania over missiles", False),
        ("Alphaland, Betania and Omegia expand their missile arsenals", False),
        ("Meanwhile, Alphaland ships missiles to Betania", True),  # no member: the opener
        ("Gammaria says Alphaland, spies and their handlers say, ships missiles to Betania", False),
    ],
)
def test_the_clause_scope_separates_objects_of_separate_clauses(
    tmp_path: Path, title: str, fires: bool
) -> None:
    ruleset = _rules(
        tmp_path, "dyad: {a: ALP, b: BET, lists: ignore}\nscope: clause\nevidence: WEAPONS\n"
    )
    sentence = _rules(tmp_path / "s", "dyad: {a: ALP, b: BET}\nevidence: WEAPONS\n")

    assert _fires(ruleset, title) is fires
    assert _fires(sentence, title)  # the sentence scope pairs them all


def test_a_pair_in_separate_clauses_is_a_near_miss_saying_so(tmp_path: Path) -> None:
    ruleset = _rules(tmp_path, "dyad: {a: ALP, b: BET}\nscope: clause\nevidence: WEAPONS\n")

    reason = _reason(ruleset, "Gammaria praises Alphaland; Betania tests missiles")

    assert reason == "ALP and BET only in separate clauses of a sentence"


# --- lists --------------------------------------------------------------------------------


def test_a_list_with_members_that_are_not_actors_is_still_a_list(tmp_path: Path) -> None:
    ruleset = _rules(tmp_path, "dyad: {a: ALP, b: BET, lists: ignore}\nevidence: WEAPONS\n")

    # Iran is no actor of the rule set, yet it makes a list of three
    assert not _fires(ruleset, "Alphaland, Iran, Betania expand their missile arsenals")
    assert _fires(ruleset, "Alphaland and Betania expand their missile arsenals")


# --- vocabulary guards --------------------------------------------------------------------


GUARDED = """\
id: WEAPONS
description: Weapons
terms:
  en: ["missile*", "shells"]
guards:
  en: ["missile defence museum"]
"""


def test_a_vocabulary_guard_hides_the_term_inside_it(tmp_path: Path) -> None:
    ruleset = _rules(tmp_path, "dyad: {a: ALP, b: BET}\nevidence: WEAPONS\n", {"weapons": GUARDED})

    assert not _fires(ruleset, "Alphaland and Betania open a missile defence museum")
    assert _fires(ruleset, "Alphaland sells Betania a missile")


def test_rule_files_ending_in_yml_are_loaded(tmp_path: Path) -> None:
    root = tmp_path / "rules"
    shutil.copytree(BASIC, root)
    (root / "extra.yml").write_text(
        HEAD.replace("test-rule", "yml-rule") + "dyad: {a: ALP, b: BET}\nevidence: WEAPONS\n",
        encoding="utf-8",
    )

    ruleset = load_ruleset(root, root / "seeds")

    assert ruleset.get("yml-rule") is not None
