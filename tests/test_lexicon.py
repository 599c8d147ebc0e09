"""Dictionary look-up: which words of a headline count as an alias or a vocabulary term, in
six languages, and where exactly they are in the text the user sees."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.engine.lexicon import Found, Lexicon, Term, fold


def _lexicon(*terms: str) -> Lexicon:
    return Lexicon(Term(text, "vocab", text) for text in terms)


def _surfaces(lexicon: Lexicon, text: str) -> list[tuple[str, str]]:
    """(term as written in the dictionary, the words it covers in `text`), in text order."""
    found = sorted(lexicon.scan(text), key=lambda f: (f.start, f.term.text))
    return [(f.term.text, text[f.start : f.end]) for f in found]


def _stem(term: str) -> str:
    """The folded form a term is looked up by (no trailing *, single spaces)."""
    return " ".join(fold(term.strip()).rstrip("*").split())


# --- word boundaries in spaced scripts -----------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "text", "expected"),
    [
        (["Alphan"], "Alphanumeric codes leaked", []),
        (["Alphan"], "PreAlphan codes leaked", []),
        (["Alphan"], "the Alphan fleet", [("Alphan", "Alphan")]),
        (["Alphan"], "(Alphan), Alphan-made", [("Alphan", "Alphan"), ("Alphan", "Alphan")]),
        (["Russia"], "Russian troops", []),
        (["Russia", "Russian"], "Russian troops", [("Russian", "Russian")]),
        (["G7"], "the G77 group met", []),
        (["G7"], "the G7 met", [("G7", "G7")]),
        (["Иран"], "войска Ирана", []),
        (["Иран"], "Иран и Россия", [("Иран", "Иран")]),
        (["Иран", "Ирана"], "войска Ирана", [("Ирана", "Ирана")]),
        (["ran"], "Iran talks", []),
    ],
)
def test_spaced_scripts_match_whole_words_only(
    terms: list[str], text: str, expected: list[tuple[str, str]]
) -> None:
    # Given a dictionary of whole words
    lexicon = _lexicon(*terms)

    # When a text is scanned
    found = _surfaces(lexicon, text)

    # Then a term never matches the beginning, middle or end of a longer word
    assert found == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Alphalanders protest", ["Alphalanders"]),
        ("Alphalander protest", ["Alphalander"]),
        ("Alphalander-made rifles", ["Alphalander"]),
        ("Alphalanders, again", ["Alphalanders"]),
        ("Alphalander1 protest", ["Alphalander"]),
        ("ProAlphalanders protest", []),
        ("Alphaland protest", []),
    ],
)
def test_a_trailing_star_extends_the_stem_over_letters_only(text: str, expected: list[str]) -> None:
    # Given a stem with a trailing *
    lexicon = _lexicon("Alphalander*")

    # When a text is scanned
    found = _surfaces(lexicon, text)

    # Then the match covers the stem and the letters glued to it, never digits or punctuation,
    # and the stem itself must still start a word
    assert [surface for _, surface in found] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("России и Россия", ["России", "Россия"]),
        ("РОССИЯНИН сказал", ["РОССИЯНИН"]),
        ("Белороссия", []),
    ],
)
def test_a_cyrillic_stem_takes_any_case_ending(text: str, expected: list[str]) -> None:
    lexicon = _lexicon("Росси*")

    found = _surfaces(lexicon, text)

    assert [surface for _, surface in found] == expected


@pytest.mark.parametrize(
    ("term", "text", "surface"),
    [
        ("Russia", "Russia's army", "Russia's"),
        ("Russia", "Russia’s army", "Russia’s"),  # right single quotation mark
        ("Russia", "Russiaʼs army", "Russiaʼs"),  # modifier letter apostrophe (U+02BC)
        ("Rusya", "Rusya'nın ordusu", "Rusya'nın"),
        ("Çin", "Çin'in tavrı", "Çin'in"),
        ("Russia", "Russia' said", "Russia"),  # a closing quote, not a suffix
        ("Russia", "'Russia'", "Russia"),
    ],
)
def test_an_apostrophe_suffix_belongs_to_the_word(term: str, text: str, surface: str) -> None:
    # Given a plain term (no *)
    lexicon = _lexicon(term)

    # When it is followed by an apostrophe suffix (English possessive, Turkish case ending)
    found = _surfaces(lexicon, text)

    # Then it still matches, and the evidence covers the whole word as written
    assert found == [(term, surface)]


# --- scripts without spaces ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("terms", "text", "expected"),
    [
        (["북한"], "북한은 미사일을 발사했다", ["북한"]),
        (["북한"], "북한과 러시아", ["북한"]),
        (["북한"], "(북한) 발표", ["북한"]),
        (["북한"], "남북한 회담", []),
        (["북한", "남북한"], "남북한 회담", ["남북한"]),
        (["북한"], "남북한 회담 뒤 북한이", ["북한"]),
    ],
)
def test_hangul_terms_start_a_word_but_take_particles(
    terms: list[str], text: str, expected: list[str]
) -> None:
    # Given Korean terms (words are spaced, particles are glued to the noun)
    lexicon = _lexicon(*terms)

    # When a text is scanned
    found = _surfaces(lexicon, text)

    # Then a term matches at the start of a word whatever follows, and never mid-word
    assert [surface for _, surface in found] == expected


@pytest.mark.parametrize(
    ("term", "text", "surface"),
    [
        ("中国", "美中国关系紧张", "中国"),
        ("朝鲜", "俄朝鲜关系", "朝鲜"),
        ("ロシア", "ロシアは北朝鮮と", "ロシア"),
        ("北朝鮮", "ロシアは北朝鮮と", "北朝鮮"),
        ("ミサイル", "弾道ミサイルを発射", "ミサイル"),
    ],
)
def test_han_and_kana_terms_match_anywhere(term: str, text: str, surface: str) -> None:
    # Given a Chinese or Japanese term (no spaces between words to anchor on)
    lexicon = _lexicon(term)

    # When it sits inside a run of characters
    found = _surfaces(lexicon, text)

    # Then it is found as a plain substring
    assert found == [(term, surface)]


# --- case folding ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "text", "surface"),
    [
        ("alphaland", "ALPHALAND SAYS", "ALPHALAND"),
        ("ALPHALAND", "alphaland says", "alphaland"),
        ("Иран", "ИРАН заявил", "ИРАН"),
        ("Иран", "иран заявил", "иран"),
        ("ИРАН", "Иран заявил", "Иран"),
        ("İran", "İRAN açıkladı", "İRAN"),
        ("İran", "İran açıkladı", "İran"),
        ("Straße", "STRASSE gesperrt", "STRASSE"),
        ("strasse", "Straße gesperrt", "Straße"),
        ("Ελλάδα", "ΕΛΛΆΔΑ σήμερα", "ΕΛΛΆΔΑ"),
    ],
)
def test_matching_ignores_case_in_every_alphabet(term: str, text: str, surface: str) -> None:
    lexicon = _lexicon(term)

    found = _surfaces(lexicon, text)

    assert found == [(term, surface)]


@pytest.mark.parametrize(
    ("term", "text", "surface"),
    [
        ("Çin", "ÇİN açıklama yaptı", "ÇİN"),
        ("Hindistan", "HİNDİSTAN ile anlaşma", "HİNDİSTAN"),
        ("Kırım", "KIRIM'DA tatbikat", "KIRIM'DA"),
        ("Avustralyalı*", "AVUSTRALYALI askerler", "AVUSTRALYALI"),
    ],
)
def test_turkish_capitals_match_their_lower_case_terms(term: str, text: str, surface: str) -> None:
    # Given a Turkish term as the dictionaries write it (rules/actors/chn.yaml: "Çin")
    lexicon = _lexicon(term)

    # When a Turkish headline is set in capitals (İ is the capital of i, I the capital of ı)
    found = _surfaces(lexicon, text)

    # Then the term is still found
    assert found == [(term, surface)]


# --- offsets refer to the original text ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "surface"),
    [
        ("Straße: Alphaland's envoy", "Alphaland's"),
        ("ßßß ALPHALAND", "ALPHALAND"),
        ("İİİ Alphaland", "Alphaland"),
        ("İzmir'de Alphaland'ın elçisi", "Alphaland'ın"),
        ("ﬁnal word on Alphaland", "Alphaland"),
        ("Αθήνα, ΣΑΣ Alphaland", "Alphaland"),
    ],
)
def test_offsets_point_into_the_original_text_when_folding_changes_its_length(
    text: str, surface: str
) -> None:
    # Given text in which case folding turns one character into two (ß → ss, İ → i̇, ﬁ → fi)
    lexicon = _lexicon("Alphaland")

    # When it is scanned
    [found] = lexicon.scan(text)

    # Then start and end slice the original text, not its folded form
    assert text[found.start : found.end] == surface


def test_offsets_of_a_term_that_itself_changes_length_when_folded() -> None:
    # Given a term and a text that fold to the same letters in different lengths
    lexicon = _lexicon("Großstadt")
    text = "Die GROSSSTADT und die Großstadt"

    # When it is scanned
    found = _surfaces(lexicon, text)

    # Then both spellings are found with their own lengths
    assert found == [("Großstadt", "GROSSSTADT"), ("Großstadt", "Großstadt")]


_WORD_LETTERS = "abcdefghijklmnopqrstuvwxyzäöüßабвгдежзийклмнопрстуфхцчшщъыьэюяё"
_ODD = ["ß", "İ", "ẞ", "ﬁ", "Σ", "ς", "ǰ", "ŉ", "’", "'", "-", " ", ".", "\n", "1"]
_CJK = "北한국朝鮮ロシア중"


@st.composite
def _term_and_text(draw: st.DrawFn) -> tuple[str, str]:
    term = draw(st.text(alphabet=_WORD_LETTERS + _CJK + "İ", min_size=1, max_size=6))
    star = draw(st.sampled_from(["", "*"]))
    variants = [term, term.upper(), term.title(), term.lower()]
    pieces = st.one_of(
        st.sampled_from(variants),
        st.text(alphabet=_WORD_LETTERS + _CJK, max_size=5),
        st.sampled_from(_ODD),
    )
    return term + star, "".join(draw(st.lists(pieces, max_size=12)))


@given(_term_and_text())
def test_every_hit_slices_text_that_folds_to_the_term(case: tuple[str, str]) -> None:
    # Given any term and a text that contains it in various cases among odd characters
    term, text = case
    lexicon = _lexicon(term)

    # When it is scanned
    found: list[Found] = lexicon.scan(text)

    # Then every hit is a non-empty slice of the original text that folds to the term
    for hit in found:
        assert 0 <= hit.start < hit.end <= len(text)
        assert fold(text[hit.start : hit.end]).startswith(_stem(term)), (hit, text)


_LATIN_OR_CYRILLIC = "abcdefghijklmnopqrstuvwxyzабвгдежзийклмнопрстуфхцчшщыэюя"


@given(
    st.text(alphabet=_LATIN_OR_CYRILLIC + "İ", min_size=1),
    st.text(alphabet=_LATIN_OR_CYRILLIC, min_size=1, max_size=4),
)
def test_a_term_glued_to_the_end_of_another_word_is_never_found(prefix: str, term: str) -> None:
    # Given a Latin or Cyrillic word whose tail is a dictionary term
    lexicon = _lexicon(term)
    text = f"« {prefix.upper()}{term.upper()} »"

    # When it is scanned
    found = lexicon.scan(text)

    # Then the term does not match inside the longer word
    assert found == [], [(f.term.text, text[f.start : f.end]) for f in found]


@given(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzабвгдежзийклмнопрстуфхцчшщыэюяß", min_size=1),
    st.sampled_from([str.lower, str.upper, str.title]),
)
def test_a_term_between_spaces_is_always_found_in_any_case(term: str, case: object) -> None:
    # Given a word of the dictionary, written in lower, upper or title case in a text
    assert callable(case)
    written = case(term)
    lexicon = _lexicon(term)

    # When the text is scanned
    found = lexicon.scan(f"Officials: {written} today.")

    # Then exactly that word is found
    assert [(f.start, f.end) for f in found] == [(11, 11 + len(written))]


# --- several terms, empty dictionaries, what a hit carries -----------------------------------


def test_terms_sharing_one_stem_are_all_reported() -> None:
    # Given three dictionary entries that fold to the same stem
    alias = Term("Alphaland", "alias", "ALP", "name")
    vocab = Term("alphaland", "vocab", "PLACES")
    stem = Term("ALPHALAND*", "vocab", "DEMONYMS")
    lexicon = Lexicon([alias, vocab, stem])

    # When a text mentions the bare word
    found = lexicon.scan("Alphaland votes")

    # Then each entry is reported with the same extent, and the automaton holds one stem
    assert sorted((f.term.ref, f.start, f.end) for f in found) == [
        ("ALP", 0, 9),
        ("DEMONYMS", 0, 9),
        ("PLACES", 0, 9),
    ]
    assert lexicon.size == 1

    # And when the word has a longer ending, only the * entry takes it
    assert [(f.term, f.start, f.end) for f in lexicon.scan("Alphalanders vote")] == [(stem, 0, 12)]


def test_overlapping_terms_are_all_found() -> None:
    # Given a place name and a longer phrase that contains it
    lexicon = _lexicon("Alphaland", "Alphaland Airways", "Airways")

    # When the phrase occurs
    found = _surfaces(lexicon, "Alphaland Airways cancels flights")

    # Then every term is found, so a guard phrase can cover its alias
    assert found == [
        ("Alphaland", "Alphaland"),
        ("Alphaland Airways", "Alphaland Airways"),
        ("Airways", "Airways"),
    ]


def test_spaces_inside_a_term_are_normalised() -> None:
    lexicon = _lexicon("  joint    statement  ")

    found = _surfaces(lexicon, "a joint statement was issued")

    assert found == [("  joint    statement  ", "joint statement")]


@pytest.mark.parametrize("terms", [[], ["", "   ", "*"]])
def test_an_empty_dictionary_finds_nothing(terms: list[str]) -> None:
    # Given no terms, or only blank ones
    lexicon = _lexicon(*terms)

    # When any text is scanned
    found = lexicon.scan("Alphaland 북한 中国 ")

    # Then nothing is found (and nothing breaks)
    assert found == []
    assert lexicon.size == 0


def test_a_hit_carries_the_term_it_stands_for() -> None:
    # Given an official's name valid for a term of office
    official = Term("Ann Arbiter", "alias", "ALP", "official:head of state", date(2020, 1, 1))
    lexicon = Lexicon([official])

    # When it is found
    [found] = lexicon.scan("President ANN ARBITER spoke")

    # Then the hit says which actor, how and when, so matching can check the date
    assert found == Found(official, 10, 21)
