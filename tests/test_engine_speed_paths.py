"""The engine's fast paths give what the plain ways give, exactly.

Each fast path (folding a whole text at once, simplemma's dictionary index built in array
passes, the language classifier walking a word at a time, lemma offsets added up on the first
hit) is compared with the obvious way it replaces, on real data and on random Unicode.
"""

import random
import sys
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from py3langid.langid import MODEL_FILE, LanguageIdentifier, visit_counts
from simplemma.strategies.dictionaries import frontcode as stream
from simplemma.strategies.dictionaries.dictionary_factory import _read_decompressed
from simplemma.strategies.dictionaries.stream_dictionary_factory import StreamMap

from monitor.engine import frontcode, langmodel, language, lemma, lexicon

# Turkish i's, sharp s, ligatures, final sigma, combining dots and letters that fold to several
TRICKY = "İıIißẞŉǰΐΰﬀﬁﬆΣσςЁёӀ\u0307\u0130KELVIN\u212a Å\u212b'’ʼ-"
TEXT = st.text(alphabet=st.sampled_from(TRICKY) | st.characters(), max_size=60)


def slow_fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """The definition: each character folded on its own, each piece pointing at it."""
    pieces = [lexicon._fold_char(ch) for ch in text]
    return "".join(pieces), [at for at, piece in enumerate(pieces) for _ in piece]


@settings(max_examples=2000, deadline=None)
@given(TEXT)
def test_folding_a_text_at_once_is_folding_it_a_character_at_a_time(text: str) -> None:
    folded, origin = lexicon._fold_with_offsets(text)

    assert (folded, list(origin)) == slow_fold_with_offsets(text)


@settings(max_examples=500, deadline=None)
@given(TEXT)
def test_fold_is_nfkc_then_each_character_folded(text: str) -> None:
    import unicodedata

    normal = unicodedata.normalize("NFKC", text)

    assert lexicon.fold(text) == "".join(lexicon._fold_char(ch) for ch in normal)


def test_turkish_and_german_fold_as_the_dictionary_writes_them() -> None:
    assert lexicon._fold_with_offsets("ÇİN ve KIRIM") == ("çin ve kirim", range(12))
    folded, origin = lexicon._fold_with_offsets("Straße İş")
    assert folded == "strasse iş"
    assert list(origin) == [0, 1, 2, 3, 4, 4, 5, 6, 7, 8]


def test_only_the_combining_dot_folds_to_nothing() -> None:
    # the fast path's premise: without U+0307 a text whose folded length is its own length
    # folded every character to exactly one
    empty = [cp for cp in range(sys.maxunicode + 1) if not lexicon._fold_char(chr(cp))]

    assert empty == [0x307]


@pytest.mark.parametrize("lang", ["pl", "de", "uk", "ru", "fr", "es", "tr", "el", "hy"])
def test_the_dictionary_index_is_simplemma_own(lang: str) -> None:
    data = _read_decompressed(lang)
    _, count, first = stream._read_header(data)
    seeds = frontcode.index(data, first, count)
    theirs = StreamMap(lang)

    assert seeds is not None
    assert seeds.firsts == theirs._firsts
    assert [seeds.seed(b) for b in range(len(seeds.firsts))] == [
        tuple(block) for block in theirs._blocks
    ]


@pytest.mark.parametrize("lang", ["pl", "uk"])
def test_dictionary_lookups_answer_what_simplemma_answers(lang: str) -> None:
    ours = lemma._Dictionaries().get_dictionary(lang)
    theirs = StreamMap(lang)
    keys = list(theirs)
    rng = random.Random(3)
    probes = rng.sample(keys, 3000)
    probes += [k[:-1] for k in probes[:500]] + [k + "x" for k in probes[:500]]
    probes += [k.upper() for k in probes[:300]] + ["", "zzzz", "\uffff", "a"]

    assert len(ours) == len(theirs)
    assert all(ours.get(k) == theirs.get(k) for k in probes)


def test_a_dictionary_with_a_long_record_is_read_by_simplemma() -> None:
    # English has one record whose length takes two bytes: not the shape the passes assume
    data = _read_decompressed("en")
    _, count, first = stream._read_header(data)

    assert frontcode.index(data, first, count) is None
    assert isinstance(lemma._Dictionaries().get_dictionary("en"), StreamMap)


def test_an_unexpected_stream_is_left_to_simplemma() -> None:
    data = _read_decompressed("fr")
    _, count, first = stream._read_header(data)

    assert frontcode.index(data, first, count + 1) is None  # the count does not add up
    assert frontcode.index(data[:-3], first, count) is None  # a cut stream
    long_suffix = bytearray(data)
    long_suffix[first + 1] = 0x85  # a two-byte length: not the shape the passes assume
    assert frontcode.index(bytes(long_suffix), first, count) is None


NEWS = [
    "Rząd i ministra rozmowy w sprawie granicy, według władze kraju",
    "Die Regierung des Landes und die Gespräche über die Sicherheit der Grenze",
    "Уряд країни і переговори міністра щодо безпеки кордону",
    "Правительство страны и переговоры министра о безопасности границы",
    "Le gouvernement du pays et les négociations du ministre sur la sécurité",
    "El gobierno del país y las negociaciones del ministro sobre la seguridad",
    "Türkiye ve Rusya arasında görüşmeler  çift  boşluk",
    "",
    "   ",
]


@pytest.mark.parametrize("text", NEWS)
def test_the_classifier_walk_counts_what_the_library_counts(text: str) -> None:
    identifier = langmodel._identifier(("de", "en", "es", "fr", "pl", "tr"), ())
    encoded = identifier._encode(text)
    expected = visit_counts(
        identifier.tk_nextmove, identifier._rowbase, identifier.tk_output, encoded
    )

    for _ in range(2):  # the second walk comes from memory
        got = identifier._visits(encoded)
        assert got == expected
        assert list((got or Counter()).items()) == list((expected or Counter()).items())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*NEWS[:7], "x", "ā", "  "]), max_size=8))
def test_the_classifier_ranks_as_the_library_ranks(pieces: list[str]) -> None:
    text = " ".join(pieces)
    candidates = ("de", "en", "es", "fr", "pl", "tr")

    assert langmodel._identifier(candidates, ()).rank(text) == _library(candidates).rank(text)


_LIBRARY: dict[tuple[str, ...], Any] = {}


def _library(candidates: tuple[str, ...]) -> Any:
    """py3langid's own classifier, as the engine used it before."""
    if candidates not in _LIBRARY:
        identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        identifier.set_languages(list(candidates))
        _LIBRARY[candidates] = identifier
    return _LIBRARY[candidates]


@pytest.mark.parametrize("text", [*NEWS, "Korei Północnej, Rosji i Chin", "a  b\n\nc-d e'f"])
def test_lemma_offsets_are_the_words_offsets(text: str) -> None:
    lemmas = lemma.Lemmas("pl", {}, use_library=False, fold=lexicon.fold)
    found = lemma.LemmaText.of(text, lemmas)
    words = lemma.tokens(text)
    starts = []
    at = 1
    for token in words:
        starts.append(at)
        at += len(lemmas.of(token.text)) + 1

    assert found.stream == f" {' '.join(lemmas.of(t.text) for t in words)} "
    for i, one in enumerate(words):
        for j in range(i, len(words)):
            assert found.span(starts[i], starts[j]) == (one.start, words[j].end)


_KANA_RE = "[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]"
_OLD = {
    "kana": _KANA_RE,
    "hangul": "[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]",
    "han": "[\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff]",
    "cyrillic": "[\u0400-\u052f]",
    "latin": "[A-Za-z\u00c0-\u024f\u1e00-\u1eff]",
}


def regex_dominant_script(text: str) -> str | None:
    """The definition the table replaces: one regex per script."""
    import re

    sample = text[:400]
    if sample.isascii():
        return "latin" if re.search(_OLD["latin"], sample) else None
    for script in ("kana", "hangul"):
        if re.search(_OLD[script], sample):
            return script
    counts = [(len(re.findall(_OLD[s], sample)), s) for s in ("han", "cyrillic", "latin")]
    best, script = max(counts, key=lambda c: c[0])
    if best:
        return script
    return "other" if any(ch.isalpha() for ch in sample) else None


SCRIPTED = st.text(
    alphabet=st.sampled_from("aZé中한かカДж1 .\U00020000ΩԱ") | st.characters(), max_size=500
)


@settings(max_examples=2000, deadline=None)
@given(SCRIPTED)
def test_the_script_table_counts_what_the_regexes_count(text: str) -> None:
    assert language.dominant_script(text) == regex_dominant_script(text)
