"""Loading a rules folder: every mistake reported at once at file:line:col (pinned golden
files), versions that change exactly when what a rule depends on changes, and warnings."""

from __future__ import annotations

import os
import re
import shutil
from datetime import date
from pathlib import Path

import pytest

from monitor.engine.condition import AllCond, NoneCond, RegexCond, VocabCond
from monitor.engine.loader import load_ruleset
from monitor.engine.rulebook import RuleBook
from monitor.engine.ruleset import RuleSet
from monitor.errors import RuleError

DATA = Path(__file__).parent / "data" / "rules"
BASIC = DATA / "basic"
INVALID = DATA / "invalid"

# Error messages are user interface: each case is a complete rules folder with one deliberate
# mistake (or several, for several-errors) and its exact output in <case>/expected.txt.
PINNED_CASES = [
    "unknown-rule-key",
    "duplicate-yaml-key",
    "duplicate-rule-id",
    "duplicate-actor-id",
    "unknown-dyad-actor",
    "unknown-vocab-set",
    "invalid-regex",
    "missing-seed-claim",
    "seed-without-hash",
    "bad-level",
    "unknown-group-member",
    "unknown-condition-key",
    "condition-is-a-number",
    "several-errors",
]


def _copy_basic(tmp_path: Path) -> Path:
    root = tmp_path / "rules"
    shutil.copytree(BASIC, root)
    return root


def _load(root: Path) -> RuleSet:
    return load_ruleset(root, root / "seeds")


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} is not in {path} exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _problems(root: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The problems of loading `root`, with paths relative to it as a user would see them."""
    monkeypatch.chdir(root)
    with pytest.raises(RuleError) as caught:
        load_ruleset(Path("."), Path("seeds"))
    return [str(p) for p in caught.value.problems]


def _versions(ruleset: RuleSet) -> dict[str, str]:
    return {rule.id: rule.version for rule in ruleset.rules}


# --- the fixture itself --------------------------------------------------------------------


def test_the_basic_fixture_loads_without_problems() -> None:
    # Given the basic rule set (two rules, four actors, three vocabulary sets)
    # When it is loaded
    ruleset = _load(BASIC)

    # Then every rule is compiled, every actor known, and nothing is worth a warning
    assert [r.id for r in ruleset.rules] == ["alp-bet-arms", "pact-bet-statement"]
    assert set(ruleset.actors) == {"ALP", "BET", "GAM", "PACT"}
    assert ruleset.actors["PACT"].members == ("ALP", "GAM")
    assert ruleset.warnings == ()
    arms = ruleset.rule("alp-bet-arms")
    assert (arms.a, arms.b, arms.direction, arms.dyad_scope, arms.evidence_scope) == (
        "ALP",
        "BET",
        "either",
        "sentence",
        "same",
    )
    assert arms.evidence == VocabCond("WEAPONS")
    assert arms.exclude == VocabCond("TOURISM")
    assert [(e.should_match, e.pos.line) for e in arms.examples] == [
        (True, 12),
        (True, 13),
        (False, 16),
        (False, 17),
    ]


def test_an_unknown_rule_id_is_a_key_error() -> None:
    ruleset = _load(BASIC)

    with pytest.raises(KeyError):
        ruleset.rule("no-such-rule")


# --- pinned error messages (golden files) --------------------------------------------------


@pytest.mark.parametrize("case", PINNED_CASES)
def test_invalid_rules_report_exactly_the_expected_errors(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a rules folder with a mistake, loaded by relative paths as the CLI does
    expected = (INVALID / case / "expected.txt").read_text(encoding="utf-8").splitlines()

    # When it is loaded
    monkeypatch.chdir(INVALID / case)
    with pytest.raises(RuleError) as caught:
        load_ruleset(Path("."), Path("seeds"))

    # Then every problem is reported at once, sorted by file then line, word for word
    assert [str(p) for p in caught.value.problems] == expected
    assert str(caught.value) == "\n".join(expected)


@pytest.mark.parametrize("case", PINNED_CASES)
def test_error_positions_point_at_what_the_message_is_about(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the golden errors, independently of their wording
    monkeypatch.chdir(INVALID / case)
    with pytest.raises(RuleError) as caught:
        load_ruleset(Path("."), Path("seeds"))

    for problem in caught.value.problems:
        # Then each one points into a file of the case, at the key (or value) it is about
        assert problem.pos is not None
        lines = Path(problem.pos.path).read_text(encoding="utf-8").splitlines()
        at = lines[problem.pos.line - 1][problem.pos.col - 1 :]
        expected = _what_is_pointed_at(problem.message)
        if expected is not None:
            assert at.startswith(expected), (str(problem), at)


def _what_is_pointed_at(message: str) -> str | None:
    if found := re.match(r"duplicate key '([^']+)'", message):
        return f"{found[1]}:"
    if message.startswith("duplicate "):
        return "id:"
    if message.endswith("required key is missing"):
        return None  # points at the mapping that lacks it
    path = message.split(": ", 1)[0]
    last = path.rsplit(".", 1)[-1]
    if re.fullmatch(r"[a-z_]+", last):
        return f"{last}:"
    if quoted := re.search(r"'([^']+)'", message):
        return quoted[1]
    return None


def test_every_case_folder_is_pinned() -> None:
    on_disk = {p.name for p in INVALID.iterdir() if p.is_dir()}

    assert on_disk == set(PINNED_CASES)
    assert all((INVALID / case / "expected.txt").is_file() for case in PINNED_CASES)


def test_duplicate_rule_id_names_where_it_was_first_defined(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(INVALID / "duplicate-rule-id")

    with pytest.raises(RuleError) as caught:
        load_ruleset(Path("."), Path("seeds"))

    [problem] = caught.value.problems
    assert problem.pos is not None
    assert problem.pos.path == "rules2.yaml"
    assert "first defined at rules.yaml:2:5" in problem.message


# --- messages that are not pinned because they are not helpful yet ------------------------


@pytest.mark.parametrize(
    "text",
    [
        "- id: alp-bet-arms\n  title: Alphaland–Betania arms\n",
        "rules:\n  id: alp-bet-arms\n  title: Alphaland–Betania arms\n",
    ],
    ids=["top-level-list", "rules-is-a-mapping"],
)
def test_a_rules_file_of_the_wrong_shape_says_what_shape_is_expected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    # Given a rules file that is a bare list of rules, or `rules:` holding a single mapping
    root = _copy_basic(tmp_path)
    (root / "rules.yaml").write_text(text, encoding="utf-8")

    # When the folder is loaded
    problems = _problems(root, monkeypatch)

    # Then one error at the top of the file tells the user how a rules file is written
    # (one rule as a mapping, or several under `rules:`), not just "expected a mapping"
    [problem] = problems
    assert problem.startswith("rules.yaml:1:1: error: ")
    assert "rules:" in problem.removeprefix("rules.yaml:1:1: error: "), problem


def test_an_invalid_actor_file_is_reported_once_not_again_by_every_rule_using_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a typo in Betania's file, which both rules use
    root = _copy_basic(tmp_path)
    _edit(root / "actors" / "beta.yaml", "places:", "plces:")

    # When the folder is loaded
    problems = _problems(root, monkeypatch)

    # Then the typo is reported, and the rules do not claim that BET does not exist
    assert problems == ["actors/beta.yaml:8:1: error: plces: unknown key (did you mean 'places'?)"]


# --- seeds ---------------------------------------------------------------------------------


def test_a_seed_reference_names_the_seed_file_it_points_into(tmp_path: Path) -> None:
    # Given the fixture's seed file renamed, its content (id: fixture) unchanged
    root = _copy_basic(tmp_path)
    (root / "seeds" / "fixture.yaml").rename(root / "seeds" / "analysis.yaml")
    rules = root / "rules.yaml"
    rules.write_text(
        rules.read_text(encoding="utf-8").replace("seeds/fixture.yaml#", "seeds/analysis.yaml#"),
        encoding="utf-8",
    )

    # When the rules refer to the file by its new name
    ruleset = _load(root)

    # Then they load: seeds/analysis.yaml#arms is the claim the user points at
    assert ruleset.rule("alp-bet-arms").seed == "seeds/analysis.yaml#arms"


def test_a_seed_reference_to_a_missing_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a rule that points into a seed file that does not exist
    root = _copy_basic(tmp_path)
    _edit(root / "rules.yaml", "seed: seeds/fixture.yaml#arms", "seed: elsewhere/fixture.yml#arms")

    # When the folder is loaded
    problems = _problems(root, monkeypatch)

    # Then the dangling reference is reported at the rule's seed key
    assert len(problems) == 1
    assert problems[0].startswith("rules.yaml:4:5: error: rules[0].seed: ")


# --- conditions ----------------------------------------------------------------------------


def test_nested_conditions_compile_to_their_structure(tmp_path: Path) -> None:
    # Given evidence written with all/none nesting and a regex
    root = _copy_basic(tmp_path)
    _edit(
        root / "rules.yaml",
        "evidence: WEAPONS\n    exclude: TOURISM",
        'evidence: {all: [WEAPONS, {none: [TOURISM]}, {regex: "(?i)shells?"}]}',
    )

    # When the folder is loaded
    evidence = _load(root).rule("alp-bet-arms").evidence

    # Then the rule holds that structure
    assert isinstance(evidence, AllCond)
    weapons, none, regex = evidence.parts
    assert weapons == VocabCond("WEAPONS")
    assert none == NoneCond((VocabCond("TOURISM"),))
    assert isinstance(regex, RegexCond)
    assert regex.pattern == "(?i)shells?"


# --- versions ------------------------------------------------------------------------------


def test_versions_are_stable_across_loads() -> None:
    first, second = _load(BASIC), _load(BASIC)

    assert _versions(first) == _versions(second)
    assert first.version == second.version
    assert all(re.fullmatch(r"[0-9a-f]{12}", v) for v in _versions(first).values())


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("level: high", "level: critical"),
        ("evidence: WEAPONS", "evidence: [WEAPONS, STATEMENT]"),
        ("exclude: TOURISM", "exclude: STATEMENT"),
        ("dyad: {a: ALP, b: BET}", "dyad: {a: ALP, b: BET, direction: a->b}"),
        ("title: Alphaland–Betania arms", "title: Alphaland arms Betania"),
    ],
)
def test_a_rule_version_changes_when_the_rule_changes(tmp_path: Path, old: str, new: str) -> None:
    # Given the basic rule set and its versions
    root = _copy_basic(tmp_path)
    before = _load(root)

    # When one rule is edited
    _edit(root / "rules.yaml", old, new)
    after = _load(root)

    # Then that rule and the rule set get a new version; the other rule keeps its own
    assert after.rule("alp-bet-arms").version != before.rule("alp-bet-arms").version
    assert after.rule("pact-bet-statement").version == before.rule("pact-bet-statement").version
    assert after.version != before.version


@pytest.mark.parametrize(
    ("file", "old", "new", "changed"),
    [
        ("vocab/weapons.yaml", '"missile*"]', '"missile*", rocket]', {"alp-bet-arms"}),
        ("vocab/tourism.yaml", "ski resort]", "ski resort, beach]", {"alp-bet-arms"}),
        (
            "vocab/statement.yaml",
            "joint statement]",
            "joint statement, rebuke]",
            {"pact-bet-statement"},
        ),
        (
            "actors/alpha.yaml",
            "[Alphaville]",
            "[Alphaville, Alphaport]",
            {"alp-bet-arms", "pact-bet-statement"},
        ),
        ("actors/gamma.yaml", "Gammarian*]", "Gammarian*, Gammish]", {"pact-bet-statement"}),
        (
            "actors/beta.yaml",
            "[Betopolis]",
            "[Betopolis, Betaport]",
            {"alp-bet-arms", "pact-bet-statement"},
        ),
    ],
)
def test_a_rule_version_changes_exactly_when_a_dictionary_it_uses_changes(
    tmp_path: Path, file: str, old: str, new: str, changed: set[str]
) -> None:
    # Given the basic rule set and its versions
    root = _copy_basic(tmp_path)
    before = _versions(_load(root))

    # When one vocabulary set or actor dictionary gains a term
    _edit(root / file, old, new)
    after = _versions(_load(root))

    # Then exactly the rules that use it get a new version (GAM is used only through PACT)
    assert {rule for rule in after if after[rule] != before[rule]} == changed


def test_a_rule_version_changes_when_an_actor_of_its_evidence_changes(tmp_path: Path) -> None:
    # Given a rule whose evidence names a third actor ({actor: GAM})
    root = _copy_basic(tmp_path)
    _edit(root / "rules.yaml", "evidence: WEAPONS", "evidence: {all: [WEAPONS, {actor: GAM}]}")
    before = _versions(_load(root))

    # When that actor's dictionary gains a name
    _edit(root / "actors" / "gamma.yaml", "Gammarian*]", "Gammarian*, Gammish]")
    after = _versions(_load(root))

    # Then the rule gets a new version, since the same item may now match differently
    assert after["alp-bet-arms"] != before["alp-bet-arms"]


def test_comments_and_layout_do_not_change_versions(tmp_path: Path) -> None:
    # Given the basic rule set
    root = _copy_basic(tmp_path)
    before = _load(root)

    # When files get comments and flow lists become block lists
    _edit(root / "rules.yaml", "    tags: [test]", "    # reviewed\n    tags:\n      - test")
    _edit(root / "vocab" / "weapons.yaml", "id: WEAPONS", "# arms\nid: WEAPONS")

    after = _load(root)

    # Then nothing the matcher sees changed, so no version does
    assert _versions(after) == _versions(before)
    assert after.version == before.version


# --- warnings ------------------------------------------------------------------------------


def test_an_unused_vocabulary_set_is_a_warning_not_an_error(tmp_path: Path) -> None:
    # Given a vocabulary set no rule refers to
    root = _copy_basic(tmp_path)
    (root / "vocab" / "sanctions.yaml").write_text(
        "id: SANCTIONS\nterms:\n  en: [sanction*]\n", encoding="utf-8"
    )

    # When the folder is loaded
    ruleset = _load(root)

    # Then it loads, with one warning at the set's id
    assert [r.id for r in ruleset.rules] == ["alp-bet-arms", "pact-bet-statement"]
    [warning] = ruleset.warnings
    assert warning.severity == "warning"
    assert warning.pos is not None
    assert (Path(warning.pos.path).name, warning.pos.line, warning.pos.col) == (
        "sanctions.yaml",
        1,
        1,
    )
    assert warning.message == "vocabulary set 'SANCTIONS' is not used by any rule"
    assert str(warning).endswith(": warning: vocabulary set 'SANCTIONS' is not used by any rule")


def test_a_rule_without_examples_is_a_warning_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the second rule without its examples
    root = _copy_basic(tmp_path)
    rules = root / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    rules.write_text(text[: text.index("    examples:", text.index("pact-bet-statement"))])

    # When the folder is loaded
    monkeypatch.chdir(root)
    ruleset = load_ruleset(Path("."), Path("seeds"))

    # Then it loads, with one warning at that rule's id
    assert [r.id for r in ruleset.rules] == ["alp-bet-arms", "pact-bet-statement"]
    assert [str(w) for w in ruleset.warnings] == [
        "rules.yaml:19:5: warning: rule 'pact-bet-statement' has no examples"
    ]


# --- the live rule book ----------------------------------------------------------------------

TODAY = date(2024, 6, 1)


def _edit_later(path: Path, old: str, new: str, seconds: int) -> None:
    """Edit `path` and move its mtime `seconds` into the future, so the change is seen even
    on file systems with coarse timestamps."""
    before = path.stat().st_mtime
    _edit(path, old, new)
    os.utime(path, (before + seconds, before + seconds))


def test_the_rule_book_starts_with_the_rules_on_disk(tmp_path: Path) -> None:
    root = _copy_basic(tmp_path)

    book = RuleBook(root, root / "seeds", lambda: TODAY)

    assert _versions(book.current) == _versions(_load(BASIC))


def test_the_rule_book_does_not_start_on_invalid_rules(tmp_path: Path) -> None:
    root = _copy_basic(tmp_path)
    _edit(root / "rules.yaml", "level: high", "level: urgent")

    with pytest.raises(RuleError):
        RuleBook(root, root / "seeds", lambda: TODAY)


def test_reload_without_changes_keeps_the_current_rule_set(tmp_path: Path) -> None:
    # Given a rule book over unchanged files
    root = _copy_basic(tmp_path)
    book = RuleBook(root, root / "seeds", lambda: TODAY)
    current = book.current

    # When it checks for changes, twice
    # Then nothing is reloaded
    assert book.reload_if_changed() is False
    assert book.reload_if_changed() is False
    assert book.current is current


def test_a_valid_edit_goes_live_on_the_next_check(tmp_path: Path) -> None:
    # Given a rule book
    root = _copy_basic(tmp_path)
    book = RuleBook(root, root / "seeds", lambda: TODAY)
    before = book.current

    # When a rule is edited
    _edit_later(root / "rules.yaml", "level: high", "level: critical", 10)

    # Then the next check loads it, and the check after that has nothing to do
    assert book.reload_if_changed() is True
    assert book.current.rule("alp-bet-arms").level == "critical"
    assert book.current.version != before.version
    assert book.reload_if_changed() is False


def test_an_edit_that_changes_no_rule_is_not_a_new_rule_set(tmp_path: Path) -> None:
    # Given a rule book
    root = _copy_basic(tmp_path)
    book = RuleBook(root, root / "seeds", lambda: TODAY)
    before = book.current.version

    # When a file changes only by a comment
    _edit_later(root / "rules.yaml", "rules:\n", "# reviewed\nrules:\n", 10)

    # Then the check reads it but reports no new rule set (nothing to announce or re-match)
    assert book.reload_if_changed() is False
    assert book.current.version == before


def test_a_dictionary_edit_goes_live(tmp_path: Path) -> None:
    root = _copy_basic(tmp_path)
    book = RuleBook(root, root / "seeds", lambda: TODAY)

    _edit_later(root / "vocab" / "weapons.yaml", '"missile*"]', '"missile*", drone]', 10)

    assert book.reload_if_changed() is True
    assert [f.term.ref for f in book.current.lexicon.scan("a drone")] == ["WEAPONS"]


@pytest.mark.parametrize(
    ("file", "old", "bad", "complaint"),
    [
        ("rules.yaml", "level: high", "level: urgent", "level: Input should be"),
        ("actors/beta.yaml", "places:", "plces:", "plces: unknown key"),
        # valid files, but the first example of alp-bet-arms stops matching
        ("vocab/tourism.yaml", "ski resort]", "ski resort, artillery]", "example should match"),
    ],
)
def test_an_invalid_edit_is_rejected_and_the_last_good_rules_stay_live(
    tmp_path: Path, file: str, old: str, bad: str, complaint: str
) -> None:
    # Given a rule book with a good rule set
    root = _copy_basic(tmp_path)
    book = RuleBook(root, root / "seeds", lambda: TODAY)
    good = book.current

    # When an edit breaks the files
    _edit_later(root / file, old, bad, 10)

    # Then the check raises with the problem, and the good rule set stays live
    with pytest.raises(RuleError) as caught:
        book.reload_if_changed()
    assert any(complaint in p.message for p in caught.value.problems), caught.value
    assert book.current is good

    # And the bad edit is reported once, not on every later check
    assert book.reload_if_changed() is False
    assert book.current is good

    # And when the mistake is fixed with a real change, the fixed rules go live
    _edit_later(root / file, bad, old, 20)
    _edit_later(root / "rules.yaml", "tags: [test]", "tags: [test, fixed]", 30)
    assert book.reload_if_changed() is True
    assert book.current.rule("alp-bet-arms").tags == ("test", "fixed")
    assert book.current.version != good.version
