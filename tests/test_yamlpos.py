"""The YAML loader behind every file:line:col message: positions, duplicates, plain strings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from monitor.errors import InvalidFile, Pos
from monitor.yamlpos import Loc, load_file, load_scalar, load_text

NESTED = """\
http:
  per_host: 2
  timeouts:
    read: 30s
feeds:
  - name: first
    url: https://a.example/
    tags: [world, sport]
  -   name: second
      url: https://b.example/
"""


def _at(text: str, pos: Pos) -> str:
    """The text of the document from `pos` to the end of its line."""
    return text.splitlines()[pos.line - 1][pos.col - 1 :]


@pytest.mark.parametrize(
    ("loc", "line", "col"),
    [
        (("http",), 1, 1),
        (("http", "per_host"), 2, 3),
        (("http", "timeouts"), 3, 3),
        (("http", "timeouts", "read"), 4, 5),
        (("feeds",), 5, 1),
        (("feeds", 0), 6, 5),
        (("feeds", 0, "url"), 7, 5),
        (("feeds", 0, "tags", 1), 8, 19),
        (("feeds", 1), 9, 7),
        (("feeds", 1, "url"), 10, 7),
    ],
)
def test_nested_keys_and_list_items_have_one_based_positions(loc: Loc, line: int, col: int) -> None:
    doc = load_text(NESTED, "monitor.yaml")

    assert doc.pos_of(loc) == Pos("monitor.yaml", line, col)


def test_position_of_an_unknown_key_falls_back_to_its_nearest_ancestor() -> None:
    doc = load_text(NESTED, "monitor.yaml")

    assert doc.pos_of(("feeds", 1, "interval")) == Pos("monitor.yaml", 9, 7)
    assert doc.pos_of(("http", "timeouts", "connect", "x")) == Pos("monitor.yaml", 3, 3)
    assert doc.pos_of(("nowhere",)) == Pos("monitor.yaml", 1, 1)


def test_values_are_loaded_as_plain_python() -> None:
    doc = load_text(NESTED, "monitor.yaml")

    assert doc.value == {
        "http": {"per_host": 2, "timeouts": {"read": "30s"}},
        "feeds": [
            {"name": "first", "url": "https://a.example/", "tags": ["world", "sport"]},
            {"name": "second", "url": "https://b.example/"},
        ],
    }


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("2024-01-01", "2024-01-01"),
        ("2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z"),
        ("2024-01-01 10:00:00", "2024-01-01 10:00:00"),
        ("3", 3),
        ("1.5", 1.5),
        ("true", True),
        ("null", None),
        ("15m", "15m"),
    ],
)
def test_timestamps_stay_strings_and_other_scalars_keep_their_type(
    written: str, expected: object
) -> None:
    doc = load_text(f"from: {written}\n", "rules.yaml")

    assert doc.value == {"from": expected}
    assert type(doc.value["from"]) is type(expected)


def test_duplicate_keys_report_both_lines() -> None:
    text = "log:\n  format: text\n  level: info\n  format: json\n"

    with pytest.raises(InvalidFile) as caught:
        load_text(text, "monitor.yaml")

    assert [str(p) for p in caught.value.problems] == [
        "monitor.yaml:4:3: error: duplicate key 'format' (first at line 2)"
    ]


def test_every_duplicate_key_is_reported_in_file_order() -> None:
    text = "a:\n  b: 1\n  c: 2\n  b: 3\nd: 1\nd: 2\n"

    with pytest.raises(InvalidFile) as caught:
        load_text(text, "x.yaml")

    assert str(caught.value) == (
        "x.yaml:4:3: error: duplicate key 'b' (first at line 2)\n"
        "x.yaml:6:1: error: duplicate key 'd' (first at line 5)"
    )


def test_same_key_in_different_mappings_is_not_a_duplicate() -> None:
    text = "feeds:\n  - name: a\n  - name: b\nlog:\n  name: c\n"

    doc = load_text(text, "x.yaml")

    assert doc.pos_of(("feeds", 1, "name")) == Pos("x.yaml", 3, 5)
    assert doc.pos_of(("log", "name")) == Pos("x.yaml", 5, 3)


def test_a_merge_key_value_can_be_overridden() -> None:
    # Given a mapping that merges an anchor and then overrides one of its keys (the point
    # of YAML merge keys; yamlpos says it resolves them)
    text = "base: &base\n  format: text\n  level: info\nlog:\n  <<: *base\n  format: json\n"

    # When it is loaded
    doc = load_text(text, "x.yaml")

    # Then the explicit key wins and the merged one fills the gap
    assert doc.value["log"] == {"format": "json", "level": "info"}


def test_merge_keys_are_resolved() -> None:
    text = "base: &base\n  format: text\n  level: info\nlog:\n  <<: *base\n"

    doc = load_text(text, "x.yaml")

    assert doc.value["log"] == {"format": "text", "level": "info"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &x [*x]\n", "x.yaml:1:4: error: recursive alias: the value at line 1, col 4"),
        ("a: &x {b: *x}\n", "x.yaml:1:8: error: recursive alias: the value at line 1, col 4"),
        ("&x [1, [2, *x]]\n", "x.yaml:1:1: error: recursive alias: the value at line 1, col 1"),
        (
            "a:\n  b: &x\n    - c: *x\n",
            "x.yaml:3:7: error: recursive alias: the value at line 2, col 6",
        ),
    ],
)
def test_a_recursive_alias_is_a_problem_not_a_crash(text: str, expected: str) -> None:
    with pytest.raises(InvalidFile) as caught:
        load_text(text, "x.yaml")

    assert str(caught.value).startswith(expected) and "contains itself" in str(caught.value)


def test_an_aliased_mapping_that_merges_and_overrides_can_be_used_twice() -> None:
    text = "base: &b {x: 1, y: 1}\none: &o {<<: *b, x: 2}\ntwo: *o\nthree: *o\n"

    doc = load_text(text, "x.yaml")

    assert doc.value["two"] == doc.value["three"] == {"x": 2, "y": 1}


@pytest.mark.parametrize(
    "text",
    [
        "[" * 150 + "]" * 150,  # parsed, then refused at MAX_DEPTH
        "[" * 2000 + "]" * 2000,  # deeper than PyYAML's own recursion can compose
        "a: " + "{b: " * 2000 + "1" + "}" * 2000,
    ],
)
def test_nesting_too_deep_is_a_problem_not_a_crash(text: str) -> None:
    with pytest.raises(InvalidFile) as caught:
        load_text(text, "x.yaml")

    assert "nested more than 100 levels deep" in str(caught.value)


def test_an_alias_bomb_stops_at_the_value_limit() -> None:
    # Each level holds ten copies of the one before: 10**9 values once expanded
    lines = ["l0: &l0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]

    with pytest.raises(InvalidFile) as caught:
        load_text("\n".join(lines) + "\n", "x.yaml")

    assert str(caught.value) == (
        "x.yaml:1:1: error: more than 100,000 values once aliases are expanded"
    )


def test_an_alias_used_many_times_within_the_limit_is_fine() -> None:
    text = "w: &w [a, b, c]\nlists: [" + ", ".join(["*w"] * 1000) + "]\n"

    doc = load_text(text, "x.yaml")

    assert len(doc.value["lists"]) == 1000 and doc.value["lists"][999] == ["a", "b", "c"]


def test_non_scalar_keys_are_rejected_where_they_are() -> None:
    text = "ok: 1\n? [a, b]\n: 2\n"

    with pytest.raises(InvalidFile) as caught:
        load_text(text, "x.yaml")

    assert str(caught.value) == "x.yaml:2:3: error: mapping keys must be plain words"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: [1, 2\nb: 3\n",
            "x.yaml:2:2: error: invalid YAML: expected ',' or ']', but got ':'"
            " (while parsing a flow sequence that starts at line 1, col 4)",
        ),
        (
            "a:\n\tb: 1\n",
            "x.yaml:2:1: error: invalid YAML: found character '\\t' that cannot start any token",
        ),
        ("a: b: c\n", "x.yaml:1:5: error: invalid YAML: mapping values are not allowed here"),
    ],
)
def test_syntax_errors_carry_a_position(text: str, expected: str) -> None:
    with pytest.raises(InvalidFile) as caught:
        load_text(text, "x.yaml")

    assert str(caught.value) == expected


@pytest.mark.parametrize("text", ["", "# only a comment\n", "\n\n"])
def test_empty_document_is_none(text: str) -> None:
    doc = load_text(text, "x.yaml")

    assert doc.value is None
    assert doc.pos_of(("anything",)) == Pos("x.yaml", 1, 1)


def test_load_file_names_the_file_in_positions(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("rules:\n  - id: r1\n", encoding="utf-8")

    doc = load_file(path)

    assert doc.path == str(path)
    assert doc.pos_of(("rules", 0, "id")) == Pos(str(path), 2, 5)


@pytest.mark.parametrize("content", [None, b"a: \xff\xfe\n"])
def test_unreadable_file_is_an_invalid_file_naming_it(
    tmp_path: Path, content: bytes | None
) -> None:
    path = tmp_path / "rules.yaml"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(InvalidFile) as caught:
        load_file(path)

    assert str(caught.value).startswith(f"{path}:1:1: error: cannot read file: ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", 3),
        ("true", True),
        ("json", "json"),
        ("15m", "15m"),
        ("2024-01-01", "2024-01-01"),
        ("postgresql://u:p@db:5432/monitor", "postgresql://u:p@db:5432/monitor"),
        ("a: b", "a: b"),
        ("[unclosed", "[unclosed"),
        ("", ""),
    ],
)
def test_load_scalar_reads_environment_values(text: str, expected: object) -> None:
    value = load_scalar(text)

    assert value == expected
    assert type(value) is type(expected)


# --- property: positions of generated documents ---------------------------------------------

_KEYS = st.from_regex(r"[a-z_][a-z0-9_-]{0,11}", fullmatch=True)
_LEAVES = st.none() | st.booleans() | st.integers() | st.text("ab xyz:#-", max_size=8)
_TREES = st.recursive(
    _LEAVES,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_KEYS, children, max_size=4),
    max_leaves=25,
)
_DOCUMENTS = st.dictionaries(_KEYS, _TREES, min_size=1, max_size=5)


def _key_paths(value: Any, prefix: Loc = ()) -> Iterator[Loc]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*prefix, key)
            yield from _key_paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _key_paths(child, (*prefix, i))


@given(_DOCUMENTS)
def test_every_key_of_a_dumped_document_is_found_at_its_position(data: dict[str, Any]) -> None:
    # Given any nested document written by PyYAML
    text = yaml.safe_dump(data)

    # When it is loaded with positions
    doc = load_text(text, "gen.yaml")

    # Then it round-trips, and every key's position is where the key is written
    assert doc.value == data
    for loc in _key_paths(data):
        key = str(loc[-1])
        at = _at(text, doc.pos_of(loc))
        assert at.startswith((key, f"'{key}'", f'"{key}"')), (loc, at, text)
