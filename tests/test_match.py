"""Matching items against the basic fixture: who (dyad), what (evidence), where (scope), what
not (exclusions and guards), and the reasons given when a rule does not fire."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from monitor.engine.loader import load_ruleset
from monitor.engine.match import NearMiss, match_item, match_items, verify_examples
from monitor.engine.ruleset import RuleSet
from monitor.engine.segment import item_text
from monitor.model import Evidence, Item, Match

BASIC = Path(__file__).parent / "data" / "rules" / "basic"
ARMS = "alp-bet-arms"
PACT = "pact-bet-statement"

RULE_HEAD = """\
id: {id}
title: A test rule
seed: seeds/fixture.yaml#arms
level: high
"""


@pytest.fixture(scope="module")
def basic() -> RuleSet:
    return load_ruleset(BASIC, BASIC / "seeds")


def _item(title: str, summary: str = "", day: date = date(2024, 3, 1), key: str = "k1") -> Item:
    return Item(
        key=key,
        guid=None,
        link=None,
        title=title,
        summary=summary,
        author=None,
        published_at=datetime(day.year, day.month, day.day, 9, 30, tzinfo=UTC),
        date_source="feed",
        language=None,
    )


def _rules(tmp_path: Path, body: str, rule_id: str = "test-rule") -> RuleSet:
    """The basic actors, vocabulary and seeds with one rule: RULE_HEAD plus `body`."""
    root = tmp_path / "rules"
    shutil.copytree(BASIC, root)
    (root / "rules.yaml").write_text(RULE_HEAD.format(id=rule_id) + body, encoding="utf-8")
    return load_ruleset(root, root / "seeds")


def _fired(ruleset: RuleSet, item: Item) -> dict[str, Match]:
    matches, _ = match_item(ruleset, item)
    return {m.rule: m for m in matches}


def _reasons(ruleset: RuleSet, item: Item) -> dict[str, str]:
    _, misses = match_item(ruleset, item)
    return {m.rule: m.reason for m in misses}


def _words(match: Match) -> list[tuple[str, str, str]]:
    return [(e.kind, e.ref, e.text) for e in match.evidence]


# --- a rule fires, with its evidence ------------------------------------------------------


def test_a_rule_fires_with_actors_vocabulary_offsets_and_sentence(basic: RuleSet) -> None:
    # Given a headline naming both actors of alp-bet-arms and two weapons words
    item = _item("Alphaland ships artillery shells to Betania", key="item-42")

    # When it is matched
    matches, _ = match_item(basic, item)

    # Then the rule fires on the title, with every piece of evidence in text order
    [match] = matches
    assert match.rule == ARMS
    assert match.version == basic.rule(ARMS).version
    assert match.level == "high"
    assert match.item_key == "item-42"
    assert match.sentence == "Alphaland ships artillery shells to Betania"
    assert match.evidence == (
        Evidence("actor", "ALP", "Alphaland", 0, 9, "name"),
        Evidence("vocab", "WEAPONS", "artillery", 16, 25),
        Evidence("vocab", "WEAPONS", "shells", 26, 32),
        Evidence("actor", "BET", "Betania", 36, 43, "name"),
    )


def test_evidence_offsets_point_into_title_newline_summary(basic: RuleSet) -> None:
    # Given an item whose match is in the second sentence of its summary
    title = "Week in review"
    summary = "Markets fell. Alphaland ships missiles to Betopolis."
    item = _item(title, summary)

    # When it is matched
    match = _fired(basic, item)[ARMS]

    # Then the sentence is the one it fired on, and every offset slices item_text
    text = item_text(title, summary)
    assert match.sentence == "Alphaland ships missiles to Betopolis."
    assert [(e.ref, text[e.start : e.end]) for e in match.evidence] == [
        ("ALP", "Alphaland"),
        ("WEAPONS", "missiles"),
        ("BET", "Betopolis"),
    ]
    assert all(text[e.start : e.end] == e.text for e in match.evidence)
    assert match.evidence[0].start == len(title) + 1 + len("Markets fell. ")
    assert match.evidence[2].via == "place"


def test_a_match_in_the_title_scores_higher_than_in_the_summary(basic: RuleSet) -> None:
    in_title = _fired(basic, _item("Alphaland ships shells to Betania"))[ARMS]
    in_summary = _fired(basic, _item("News", "Alphaland ships shells to Betania."))[ARMS]

    assert in_title.score > in_summary.score
    assert 0.0 < in_summary.score <= in_title.score <= 1.0


def test_match_items_keeps_item_order(basic: RuleSet) -> None:
    items = [
        _item("Alphaland ships shells to Betania", key="a"),
        _item("Nothing to see", key="b"),
        _item("The Pact condemns Betania", key="c"),
    ]

    matches = match_items(basic, items)

    assert [(m.item_key, m.rule) for m in matches] == [("a", ARMS), ("c", PACT)]


# --- who: the dyad ----------------------------------------------------------------------


def test_a_dyad_split_across_sentences_is_a_near_miss(basic: RuleSet) -> None:
    # Given both actors and weapons, but the actors in different sentences
    item = _item("Alphaland ships artillery", "Betania denies any deal.")

    # When it is matched
    matches, misses = match_item(basic, item)

    # Then the rule does not fire, and the near miss says why
    assert ARMS not in {m.rule for m in matches}
    assert NearMiss(ARMS, "k1", "ALP and BET found, but never in the same sentence") in misses


@pytest.mark.parametrize(
    ("title", "rule", "reason"),
    [
        ("Alphaland ships artillery shells", ARMS, "ALP found, no BET"),
        ("Betania buys artillery shells", ARMS, "BET found, no ALP"),
        ("Betania buys artillery shells", PACT, "BET found, no PACT"),
        ("Alphaland condemns Betania", PACT, "BET found, no PACT"),
    ],
)
def test_with_one_actor_the_near_miss_names_the_one_missing(
    basic: RuleSet, title: str, rule: str, reason: str
) -> None:
    assert _reasons(basic, _item(title))[rule] == reason


def test_an_item_without_any_dyad_actor_is_not_a_near_miss(basic: RuleSet) -> None:
    # Given a headline about an actor no rule's dyad uses on its own
    item = _item("Gammaria holds elections", "Voters queue for weapons permits.")

    # When it is matched, nothing fires and nothing is worth reporting
    assert match_item(basic, item) == ([], [])


@pytest.mark.parametrize(
    ("title", "fires", "alp_at"),
    [
        ("Alphaland Airways flies weapons to Betania", False, None),
        ("ALPHALAND AIRWAYS flies weapons to Betania", False, None),
        ("Alphaland Airways: Alphaland sends weapons to Betania", True, 19),
        ("Alphaland sends weapons to Betania on Alphaland Airways", True, 0),
    ],
)
def test_a_guard_phrase_does_not_count_as_its_actor(
    basic: RuleSet, title: str, fires: bool, alp_at: int | None
) -> None:
    # Given "Alphaland Airways", a guard of ALP, in a headline
    # When it is matched
    fired = _fired(basic, _item(title))

    # Then the airline does not stand for Alphaland, but any other mention still does
    assert (ARMS in fired) is fires
    if fires:
        [alp] = [e for e in fired[ARMS].evidence if e.ref == "ALP"]
        assert (alp.start, alp.text) == (alp_at, "Alphaland")
    else:
        assert _reasons(basic, _item(title))[ARMS] == "BET found, no ALP"


@pytest.mark.parametrize(
    ("day", "fires"),
    [
        (date(2019, 12, 31), False),
        (date(2020, 1, 1), True),
        (date(2022, 5, 1), True),
        (date(2024, 12, 31), True),
        (date(2025, 1, 1), False),
        (date(2025, 5, 1), False),
    ],
)
def test_an_official_stands_for_the_actor_only_while_in_office(
    basic: RuleSet, day: date, fires: bool
) -> None:
    # Given Ann Arbiter, ALP's head of state from 2020-01-01 to 2024-12-31
    item = _item("Ann Arbiter offers Betopolis new missiles", day=day)

    # When an item published on `day` names her
    fired = _fired(basic, item)

    # Then she counts as Alphaland only during her term (both ends included)
    assert (ARMS in fired) is fires
    if fires:
        assert fired[ARMS].evidence[0] == Evidence(
            "actor", "ALP", "Ann Arbiter", 0, 11, "official:head of state"
        )
    else:
        assert _reasons(basic, item)[ARMS] == "BET found, no ALP"


@pytest.mark.parametrize(
    ("title", "summary", "refs"),
    [
        ("The Pact condemns Betania", "", {"PACT", "BET", "STATEMENT"}),
        ("THE PACT condemns Betania", "", {"PACT", "BET", "STATEMENT"}),
        ("Alphaland and Gammaria condemn Betania", "", {"ALP", "GAM", "BET", "STATEMENT"}),
        ("Gammarians and Alphalanders condemn Betania", "", {"ALP", "GAM", "BET", "STATEMENT"}),
    ],
)
def test_a_group_is_present_by_its_alias_or_by_all_its_members(
    basic: RuleSet, title: str, summary: str, refs: set[str]
) -> None:
    # When the Pact is named, or all of its members (ALP, GAM) in one sentence
    fired = _fired(basic, _item(title, summary))

    # Then the group rule fires, with the words that made the group present
    assert {e.ref for e in fired[PACT].evidence} == refs


@pytest.mark.parametrize(
    ("title", "summary", "reason"),
    [
        ("Alphaland condemns Betania", "", "BET found, no PACT"),
        ("Gammaria condemns Betania", "", "BET found, no PACT"),
        (
            "Alphaland condemns Betania",
            "Gammaria stays silent.",
            "PACT and BET found, but never in the same sentence",
        ),
    ],
)
def test_one_member_is_not_the_group(basic: RuleSet, title: str, summary: str, reason: str) -> None:
    item = _item(title, summary)

    assert PACT not in _fired(basic, item)
    assert _reasons(basic, item)[PACT] == reason


# --- what: evidence, and what not: exclusions --------------------------------------------


def test_a_dyad_without_evidence_is_a_near_miss_naming_the_missing_evidence(
    basic: RuleSet,
) -> None:
    item = _item("Alphaland meets Betania", "Weapons were discussed later.")

    assert ARMS not in _fired(basic, item)
    assert _reasons(basic, item)[ARMS] == (
        "ALP and BET in 'Alphaland meets Betania', but no evidence (WEAPONS)"
    )


def test_an_exclusion_stops_the_match_and_says_which_words(basic: RuleSet) -> None:
    # Given arms evidence and a tourism word in the same sentence
    item = _item("Alphalander tourists buy weapons in Betania")

    # When it is matched
    matches, misses = match_item(basic, item)

    # Then the rule does not fire, and the near miss names the exclusion and its words
    assert ARMS not in {m.rule for m in matches}
    [miss] = [m for m in misses if m.rule == ARMS]
    assert miss.reason.startswith("excluded by TOURISM")
    assert miss.reason == "excluded by TOURISM: tourists"


def test_an_exclusion_in_another_sentence_does_not_stop_a_same_sentence_rule(
    basic: RuleSet,
) -> None:
    item = _item("Alphaland ships weapons to Betania", "Ski resort bookings fell.")

    assert ARMS in _fired(basic, item)


def test_evidence_scope_item_takes_evidence_from_any_sentence(basic: RuleSet) -> None:
    # Given the Pact rule (scope: dyad in one sentence, evidence anywhere in the item)
    title = "Alphaland and Gammaria meet Betania"
    summary = "Talks lasted hours. A joint statement followed."
    item = _item(title, summary)

    # When the statement is in another sentence than the dyad
    match = _fired(basic, item)[PACT]

    # Then the rule fires on the dyad's sentence, with the evidence where it is
    assert match.sentence == title
    [statement] = [e for e in match.evidence if e.kind == "vocab"]
    assert statement.text == "joint statement"
    assert item_text(title, summary)[statement.start : statement.end] == "joint statement"
    assert statement.start > len(title)


def test_evidence_scope_same_needs_evidence_in_the_dyads_sentence(tmp_path: Path) -> None:
    ruleset = _rules(tmp_path, "dyad: {a: ALP, b: BET}\nevidence: WEAPONS\n")
    item = _item("Alphaland meets Betania", "Weapons were discussed.")

    assert _fired(ruleset, item) == {}


@pytest.mark.parametrize(
    ("scope", "title", "summary", "fires"),
    [
        ("sentence", "Alphaland arms", "Betania gets weapons.", False),
        ("item", "Alphaland arms", "Betania gets weapons.", True),
        ("title", "Alphaland arms Betania", "Weapons, mostly.", False),
        ("{dyad: title, evidence: item}", "Alphaland arms Betania", "Weapons, mostly.", True),
        ("title", "Talks", "Alphaland gives Betania weapons.", False),
    ],
)
def test_the_dyad_scope_decides_how_close_the_actors_must_be(
    tmp_path: Path, scope: str, title: str, summary: str, fires: bool
) -> None:
    ruleset = _rules(tmp_path, f"dyad: {{a: ALP, b: BET}}\nscope: {scope}\nevidence: WEAPONS\n")

    assert (ruleset.rules[0].id in _fired(ruleset, _item(title, summary))) is fires


# --- regular expressions and nested conditions --------------------------------------------


def test_a_regex_condition_is_evidence_with_its_offsets(tmp_path: Path) -> None:
    # Given a rule whose evidence is a regex
    ruleset = _rules(tmp_path, 'dyad: {a: ALP, b: BET}\nevidence: {regex: "(?i)shells?"}\n')
    title = "Новости дня"
    summary = "Альфандия отправила SHELLS в Betania."

    # When an item in mixed scripts matches it
    match = _fired(ruleset, _item(title, summary))["test-rule"]

    # Then the regex hit is evidence, with offsets into the item text (not bytes)
    [regex] = [e for e in match.evidence if e.kind == "regex"]
    assert (regex.ref, regex.text) == ("(?i)shells?", "SHELLS")
    assert item_text(title, summary)[regex.start : regex.end] == "SHELLS"


def test_a_regex_that_does_not_match_is_named_in_the_near_miss(tmp_path: Path) -> None:
    ruleset = _rules(tmp_path, 'dyad: {a: ALP, b: BET}\nevidence: {regex: "(?i)shells?"}\n')

    reasons = _reasons(ruleset, _item("Alphaland sends rifles to Betania"))

    assert reasons["test-rule"] == (
        "ALP and BET in 'Alphaland sends rifles to Betania', but no evidence (regex '(?i)shells?')"
    )


NESTED = """\
dyad: {a: ALP, b: BET}
evidence:
  all:
    - WEAPONS
    - any: [STATEMENT, {regex: "(?i)\\\\bdeal\\\\b"}]
    - none: [TOURISM]
"""


@pytest.mark.parametrize(
    ("title", "fires"),
    [
        ("Alphaland condemns Betania over weapons", True),
        ("Alphaland weapons deal with Betania", True),
        ("Alphaland weapons dealer in Betania", False),
        ("Alphaland sends weapons to Betania", False),
        ("Alphaland condemns Betania", False),
        ("Alphaland tourists condemn Betania weapons", False),
    ],
)
def test_all_any_and_none_nest(tmp_path: Path, title: str, fires: bool) -> None:
    # Given evidence: WEAPONS and (STATEMENT or the word "deal") and no TOURISM
    ruleset = _rules(tmp_path, NESTED)

    # When a headline is matched, the whole expression decides
    assert ("test-rule" in _fired(ruleset, _item(title))) is fires


def test_a_failed_nested_condition_is_described_in_the_near_miss(tmp_path: Path) -> None:
    ruleset = _rules(tmp_path, NESTED)

    reasons = _reasons(ruleset, _item("Alphaland sends weapons to Betania"))

    assert reasons["test-rule"].endswith(
        "but no evidence (WEAPONS & STATEMENT | regex '(?i)\\bdeal\\b' & none of TOURISM)"
    )


def test_an_actor_condition_requires_a_third_actor(tmp_path: Path) -> None:
    ruleset = _rules(tmp_path, "dyad: {a: ALP, b: BET}\nevidence: {actor: GAM}\n")

    with_gam = _fired(ruleset, _item("Alphaland, Betania and Gammaria meet"))
    without = _fired(ruleset, _item("Alphaland and Betania meet"))

    assert {e.ref for e in with_gam["test-rule"].evidence} == {"ALP", "BET", "GAM"}
    assert without == {}


# --- direction ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "fires"),
    [
        ("Alphaland sells weapons to Betania", True),
        ("Betania buys weapons from Alphaland", False),
    ],
)
def test_a_directed_dyad_needs_a_named_before_b(tmp_path: Path, title: str, fires: bool) -> None:
    # Given a rule with direction a->b
    ruleset = _rules(tmp_path, "dyad: {a: ALP, b: BET, direction: a->b}\nevidence: WEAPONS\n")

    # When the actors appear in either order
    fired = _fired(ruleset, _item(title))

    # Then only a before b fires, and the other order says so
    assert ("test-rule" in fired) is fires
    if not fires:
        assert _reasons(ruleset, _item(title))["test-rule"] == "BET is named before ALP"


def test_an_undirected_rule_fires_in_either_order(basic: RuleSet) -> None:
    assert ARMS in _fired(basic, _item("Betania buys weapons from Alphaland"))


# --- six languages -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "words"),
    [
        ("Альфандия передаёт снаряды Бетании", ["Альфандия", "снаряды", "Бетании"]),
        ("АЛЬФАНДИИ и Бетании нужно оружие", ["АЛЬФАНДИИ", "Бетании", "оружие"]),
        ("알파국은 베타국에 포탄을 보냈다", ["알파국", "베타국", "포탄"]),
        ("阿尔法国向贝塔国提供炮弹", ["阿尔法国", "贝塔国", "炮弹"]),
        ("阿尔法国和贝塔国的武器交易", ["阿尔法国", "贝塔国", "武器"]),
        ("Alphaland's shells reach Betania", ["Alphaland's", "shells", "Betania"]),
    ],
)
def test_terms_match_in_every_script(basic: RuleSet, title: str, words: list[str]) -> None:
    # Given a headline in Russian (stems), Korean (particles) or Chinese (no spaces)
    # When it is matched
    match = _fired(basic, _item(title))[ARMS]

    # Then the rule fires, with the words as written in the headline
    assert [e.text for e in match.evidence] == words


def test_korean_compound_does_not_count_as_its_tail(basic: RuleSet) -> None:
    # Given 베타국 (BET) glued to the end of another Hangul word
    reasons = _reasons(basic, _item("알파국은 반베타국 포탄을 보냈다"))

    assert reasons[ARMS] == "ALP found, no BET"


# --- what a rule file says about itself --------------------------------------------------


def test_a_disabled_rule_does_not_fire(tmp_path: Path) -> None:
    # Given alp-bet-arms with `enabled: false`
    ruleset = _rules(
        tmp_path, "enabled: false\ndyad: {a: ALP, b: BET}\nevidence: WEAPONS\n", rule_id=ARMS
    )

    # When a headline it would match arrives
    matches, _ = match_item(ruleset, _item("Alphaland ships artillery shells to Betania"))

    # Then nothing fires
    assert matches == []


def test_only_restricts_matching_to_the_named_rules(basic: RuleSet) -> None:
    item = _item("Alphaland and Gammaria condemn Betania over weapons")

    everything, _ = match_item(basic, item)
    only_pact, misses = match_item(basic, item, only=[PACT])

    assert {m.rule for m in everything} == {ARMS, PACT}
    assert [m.rule for m in only_pact] == [PACT]
    assert misses == []


# --- inline examples ---------------------------------------------------------------------


def test_the_basic_examples_all_behave(basic: RuleSet) -> None:
    assert verify_examples(basic, today=date(2024, 6, 1)) == []


EXAMPLES = """\
dyad: {a: ALP, b: BET}
evidence: WEAPONS
examples:
  match:
    - Alphaland ships artillery shells to Betania
    - Alphaland ships artillery shells to Gammaria
    - text: Ann Arbiter offers Betopolis new missiles
      date: 2025-05-01
  no_match:
    - Betania buys missiles from Alphaland
"""


def test_failing_examples_are_reported_at_their_file_line_and_col(tmp_path: Path) -> None:
    # Given a rule with one good and three wrong examples
    ruleset = _rules(tmp_path, EXAMPLES, rule_id=ARMS)

    # When its examples are verified
    problems = verify_examples(ruleset, today=date(2024, 6, 1))

    # Then each wrong one is reported where it is written, with the reason
    assert [(p.pos.line, p.pos.col) if p.pos else None for p in problems] == [
        (10, 7),
        (11, 7),
        (14, 7),
    ]
    assert all(p.pos is not None and p.pos.path.endswith("rules.yaml") for p in problems)
    assert [p.message for p in problems] == [
        "example should match alp-bet-arms but does not (ALP found, no BET): "
        "'Alphaland ships artillery shells to Gammaria'",
        "example should match alp-bet-arms but does not (BET found, no ALP): "
        "'Ann Arbiter offers Betopolis new missiles'",
        "example should not match alp-bet-arms but does (on Alphaland, Betania, missiles): "
        "'Betania buys missiles from Alphaland'",
    ]


def test_an_example_without_a_date_is_checked_as_of_today(tmp_path: Path) -> None:
    # Given an example naming an official, without a date
    ruleset = _rules(
        tmp_path,
        "dyad: {a: ALP, b: BET}\nevidence: WEAPONS\nexamples:\n"
        "  match: [Ann Arbiter offers Betopolis new missiles]\n",
    )

    # When verified during and after her term
    during = verify_examples(ruleset, today=date(2023, 1, 1))
    after = verify_examples(ruleset, today=date(2025, 1, 1))

    # Then it holds during, and fails after
    assert during == []
    [problem] = after
    assert "(BET found, no ALP)" in problem.message
