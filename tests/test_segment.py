"""Sentence splitting: the unit a dyad must share. The title is always sentence 0, and every
sentence slices back out of the item text that evidence offsets refer to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.engine.segment import Sentence, item_text, split_sentences


def _texts(text: str) -> list[str]:
    return [s.text for s in split_sentences(text)]


# --- the title ---------------------------------------------------------------------------


def test_item_text_is_title_newline_summary() -> None:
    assert item_text("Alphaland arms Betania", "Shells were shipped.") == (
        "Alphaland arms Betania\nShells were shipped."
    )
    assert item_text("Alphaland arms Betania", "") == "Alphaland arms Betania"


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        ("Alphaland arms Betania", "Officials met. They agreed."),
        ("Alphaland arms Betania", "officials met on Monday."),
        ("Alphaland warns the U.S.", "Betania replied on Monday."),
        ("Alphaland talks to Mr.", "Betania replied on Monday."),
        ("Prices rose approx.", "five percent, officials said."),
        ("Alphaland arms Betania!", "Officials met."),
        ("阿尔法国向贝塔国提供炮弹", "双方同意。"),
    ],
)
def test_the_title_is_always_sentence_zero(title: str, summary: str) -> None:
    # Given an item whose title ends in any way at all
    text = item_text(title, summary)

    # When its text is split
    sentences = split_sentences(text)

    # Then the title is sentence 0 on its own, and the summary starts a new sentence
    assert sentences[0] == Sentence(0, len(title), title)
    assert sentences[1].start == len(title) + 1


def test_a_title_with_two_sentences_stays_within_the_title() -> None:
    text = item_text("Alphaland arms Betania. Gammaria objects", "Talks resume.")

    assert _texts(text) == ["Alphaland arms Betania.", "Gammaria objects", "Talks resume."]


# --- where sentences end -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "U.S. officials met Mr. Smith in N. Korea. Then they left.",
            ["U.S. officials met Mr. Smith in N. Korea.", "Then they left."],
        ),
        ("Dr. Kim and Gen. Park met in St. Petersburg.", None),
        (
            "The U.N. Security Council met. Betania left.",
            ["The U.N. Security Council met.", "Betania left."],
        ),
        ("Costs rose approx. five percent.", None),
        ("He arrived at 5 p.m. on Monday.", None),
        ("В 2024 г. Россия провела учения.", None),
        ("Talks ended. Betania left.", ["Talks ended.", "Betania left."]),
        ("Talks ended. 2024 was hard.", ["Talks ended.", "2024 was hard."]),
        ('He said "Go." Then left.', ['He said "Go."', "Then left."]),
        ("Wow! Really? Yes… Fine.", ["Wow!", "Really?", "Yes…", "Fine."]),
        ("What?! No way!!! Fine...", ["What?!", "No way!!!", "Fine..."]),
        ("Он сказал. Потом ушёл.", ["Он сказал.", "Потом ушёл."]),
        ("Version 2.0 shipped.", None),
        ("End.Next word", None),
    ],
)
def test_sentences_end_at_terminators_but_not_after_abbreviations(
    text: str, expected: list[str] | None
) -> None:
    # When an English or Russian text is split
    found = _texts(text)

    # Then . ! ? … end a sentence when a new one follows, but abbreviations, initials and
    # lower-case continuations hold it together (None: the text is one sentence)
    assert found == (expected if expected is not None else [text])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("北京会谈。双方同意！真的吗？是的", ["北京会谈。", "双方同意！", "真的吗？", "是的"]),
        ("ロシアは発表した。北朝鮮も", ["ロシアは発表した。", "北朝鮮も"]),
        ("「発射した。」次に", ["「発射した。」", "次に"]),
        ("러시아가 발표했다. 북한도 동의했다.", ["러시아가 발표했다.", "북한도 동의했다."]),
        ("Putin met Kim. 金正恩与普京会面。", ["Putin met Kim.", "金正恩与普京会面。"]),
    ],
)
def test_full_width_terminators_end_sentences_without_a_space(
    text: str, expected: list[str]
) -> None:
    assert _texts(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Line one\nLine two", ["Line one", "Line two"]),
        ("Line one\n\n\nLine two\n", ["Line one", "Line two"]),
        ("Line one.\nline two", ["Line one.", "line two"]),
        ("Meeting with the U.S.\nBetania replied", ["Meeting with the U.S.", "Betania replied"]),
    ],
)
def test_line_breaks_always_end_a_sentence(text: str, expected: list[str]) -> None:
    assert _texts(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "\n\n", " \n \t "])
def test_blank_text_has_no_sentences(text: str) -> None:
    assert split_sentences(text) == []


def test_surrounding_spaces_are_not_part_of_a_sentence() -> None:
    text = "  Talks ended.   Betania left.  "

    sentences = split_sentences(text)

    assert sentences == [Sentence(2, 14, "Talks ended."), Sentence(17, 30, "Betania left.")]


# --- properties ----------------------------------------------------------------------------

_PIECES = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1),
    st.text(alphabet="абвгдежзАБВГДЕЖЗ", min_size=1),
    st.text(alphabet="北京会谈双方同意ロシアは북한은", min_size=1),
    st.sampled_from(
        [
            " ",
            "  ",
            "\n",
            "\n\n",
            "\t",
            ".",
            ". ",
            "!",
            "? ",
            "…",
            "...",
            "。",
            "！",
            "？",
            '"',
            "'",
            "”",
            "」",
            ")",
            "（",
            "U.S.",
            "Mr.",
            "N.",
            "1",
            "2024",
            " - ",
        ]
    ),
)


@given(st.lists(_PIECES, max_size=30).map("".join))
def test_every_sentence_slices_back_out_of_the_text(text: str) -> None:
    # Given any text made of words, spaces, punctuation and CJK
    # When it is split
    sentences = split_sentences(text)

    # Then each sentence is exactly the text between its offsets, non-empty, trimmed,
    # in order, and together the sentences hold every non-space character of the text
    covered = 0
    for sentence in sentences:
        assert text[sentence.start : sentence.end] == sentence.text
        assert sentence.text
        assert sentence.text == sentence.text.strip()
        assert sentence.start >= covered
        assert text[covered : sentence.start].strip() == ""
        covered = sentence.end
    assert text[covered:].strip() == ""


@given(
    st.lists(_PIECES, max_size=10).map("".join).filter(lambda t: "\n" not in t and t.strip()),
    st.lists(_PIECES, max_size=10).map("".join),
)
def test_no_sentence_straddles_the_title_and_the_summary(title: str, summary: str) -> None:
    # Given any one-line title and any summary
    text = item_text(title, summary)

    # When the item text is split
    sentences = split_sentences(text)

    # Then every sentence lies wholly in the title or wholly in the summary
    for sentence in sentences:
        assert sentence.end <= len(title) or sentence.start > len(title), (sentence, title)
