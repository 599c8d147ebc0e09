"""Find every dictionary term (actor aliases, guards, vocabulary) in a text in one pass.

The only user of pyahocorasick. Terms are NFKC + case-folded; a trailing `*` on the last word
means "this stem and any letters after it". Each term belongs to one language and is looked
for only in text of that language. In a language with lemmas, a term also matches any text
whose words have the same lemmas as its words ("Korei Północnej" for "Korea Północna"), with
a second automaton over the text's lemma stream, built the first time the language is seen.
Boundaries depend on the script:

- Latin, Cyrillic and other spaced scripts: whole words; an apostrophe suffix is allowed
  after any term ("Russia's", "Rusya'nın").
- Hangul: the term must start a word; any Hangul may follow (particles: 북한은, 북한과).
- Han and Kana: plain substrings (no spaces between words to anchor on).

A term written with a leading `=` matches only with exactly that case ("=US" is the country,
never the pronoun "us").
"""

import threading
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import ahocorasick

from monitor.engine.lemma import Lemmas, LemmaText

APOSTROPHES = "'\u2019\u02bc"


@dataclass(frozen=True, slots=True)
class Term:
    """One dictionary entry and what it stands for."""

    text: str  # as written in the dictionary (with any trailing *)
    kind: str  # alias | guard | vocab
    ref: str  # actor id or vocabulary set id
    via: str = ""  # for aliases: name | place | media | official
    valid_from: date | None = None  # an official's term of office, both days included
    valid_to: date | None = None
    language: str | None = None  # None: any language (tests, generated rules)


@dataclass(frozen=True, slots=True)
class Found:
    """A term found in a text: [start, end) offsets are in the original (unfolded) text."""

    term: Term
    start: int
    end: int


def fold(text: str) -> str:
    """The matching form of a text or term: NFKC, case-folded, Turkish i's merged."""
    return _fold(unicodedata.normalize("NFKC", text))


def _fold(text: str) -> str:
    # Turkish writes İ/i and I/ı; plain case folding turns "ÇİN" into "çi̇n" and "KIRIM"
    # into "kirim" while the dictionary says "Çin", "Kırım". Merging them costs nothing.
    # Case folding maps each character on its own (no context, unlike lower()'s final
    # sigma), so folding the whole text is folding it a character at a time, in C.
    return text.casefold().replace("\u0307", "").replace("ı", "i")


def _fold_char(ch: str) -> str:
    """One character's matching form (the definition `_fold` is tested against)."""
    return ch.casefold().replace("\u0307", "").replace("ı", "i")


def _is_hangul(ch: str) -> bool:
    return "\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff" or "\u3130" <= ch <= "\u318f"


def _is_unspaced(ch: str) -> bool:
    """Han and Kana: scripts written without spaces between words."""
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x3040 <= code <= 0x30FF
        or 0x31F0 <= code <= 0x31FF
        or 0xFF66 <= code <= 0xFF9F
        or 0x20000 <= code <= 0x2FFFF
    )


class Lexicon:
    """An Aho–Corasick automaton over every term's written form (built once per rule set),
    and one over the lemmas of each lemmatised language's terms (built when first needed)."""

    def __init__(self, terms: Iterable[Term], lemmas: Mapping[str, Lemmas] | None = None) -> None:
        self._lemmas = dict(lemmas or {})
        self._by_language: dict[str, list[Term]] = {}
        self._lemma_automata: dict[str, Any] = {}
        self._lock = threading.Lock()
        # one automaton per language (None: terms of every language), so an item's scan only
        # meets the terms of its own languages
        grouped: dict[str | None, dict[str, list[tuple[Term, bool, str | None]]]] = {}
        # equal terms become one object, so hits are told apart by identity (see `scan`)
        canonical: dict[Term, Term] = {}
        for term in terms:
            term = canonical.setdefault(term, term)
            written = unicodedata.normalize("NFKC", term.text.strip())
            exact = written[1:].rstrip("*") if written.startswith("=") else None
            stem = fold(written.removeprefix("="))
            wildcard = stem.endswith("*")
            stem = " ".join(stem.rstrip("*").split())
            if stem:
                by_stem = grouped.setdefault(term.language, {})
                by_stem.setdefault(stem, []).append((term, wildcard, exact))
            if term.language in self._lemmas and _by_lemma(stem, wildcard, exact):
                self._by_language.setdefault(term.language, []).append(term)
        self._automata: dict[str | None, Any] = {}
        for language, by_stem in grouped.items():
            automaton = ahocorasick.Automaton()
            for stem, entries in by_stem.items():
                first, last = stem[0], stem[-1]
                opens = _is_unspaced(first) or not first.isalnum()  # may start mid-word
                closes = _is_unspaced(last) or _is_hangul(last) or not last.isalnum()
                automaton.add_word(stem, (len(stem), opens, closes, tuple(entries)))
            automaton.make_automaton()
            self._automata[language] = automaton
        self.size = sum(len(by_stem) for by_stem in grouped.values())

    @property
    def lemma_languages(self) -> frozenset[str]:
        """Languages whose terms also match by lemma."""
        return frozenset(self._lemmas)

    def scan(self, text: str, languages: Collection[str] | None = None) -> list[Found]:
        """Every term occurrence in `text` that respects its script's word boundaries.

        Only terms of `languages` (and terms of no language) count; None: every term.
        """
        found: list[Found] = []
        if self.size:
            found = self._scan_surface(text, languages)
        for language in languages or ():
            if language in self._by_language:
                found += self._scan_lemmas(text, language)
        if len(found) < 2:
            return found
        # the same term at the same place once (equal terms are one object: see __init__)
        return list({(id(f.term), f.start, f.end): f for f in found}.values())

    def _scan_surface(self, text: str, languages: Collection[str] | None) -> list[Found]:
        folded, origin = _fold_with_offsets(text)
        found: list[Found] = []
        wanted = [
            automaton
            for language, automaton in self._automata.items()
            if languages is None or language is None or language in languages
        ]
        for automaton in wanted:
            found += _surface_hits(automaton, text, folded, origin)
        return found

    def _scan_lemmas(self, text: str, language: str) -> list[Found]:
        automaton = self._lemma_automaton(language)
        if automaton is None:
            return []
        lemmas = LemmaText.of(text, self._lemmas[language])
        found = []
        for last, (length, last_word, terms) in automaton.iter(lemmas.stream):
            first = last - length + 2  # the key is ' lemma … lemma '
            start, end = lemmas.span(first, last - last_word)
            found += [Found(term, start, end) for term in terms]
        return found

    def _lemma_automaton(self, language: str) -> Any:
        with self._lock:
            if language not in self._lemma_automata:
                lemmas = self._lemmas[language]
                keyed: dict[str, list[Term]] = {}
                for term in self._by_language[language]:
                    text = term.text.strip()
                    # by its lemmas, and by its words as written when those differ: a
                    # text word whose lemma is the term's own dictionary form matches too
                    for phrase in dict.fromkeys((lemmas.phrase(text), lemmas.written(text))):
                        if phrase:
                            keyed.setdefault(f" {phrase} ", []).append(term)
                automaton = ahocorasick.Automaton()
                for key, terms in keyed.items():
                    last_word = len(key.rstrip().rsplit(" ", 1)[-1])
                    automaton.add_word(key, (len(key), last_word, tuple(terms)))
                if keyed:
                    automaton.make_automaton()
                self._lemma_automata[language] = automaton if keyed else None
            return self._lemma_automata[language]


def _surface_hits(automaton: Any, text: str, folded: str, origin: Sequence[int]) -> list[Found]:
    found: list[Found] = []
    size = len(folded)
    for last, (length, opens, closes, entries) in automaton.iter(folded):
        start = last - length + 1
        if start and not opens and folded[start - 1].isalnum():
            continue  # it starts inside a word
        end = last + 1
        # where a term without `*` ends: here, unless a letter or an apostrophe follows
        if end == size or closes:
            plain: int | None = end
        else:
            after = folded[end]
            alone = not after.isalnum() and after not in APOSTROPHES
            plain = end if alone else _word_end(folded, end, False)
        stretched: int | None = None
        for term, wildcard, exact in entries:
            if wildcard:
                stretched = stretched or _word_end(folded, end, True)
            stop = stretched if wildcard else plain
            if stop is None:
                continue
            begin = origin[start]
            if exact is not None and not text.startswith(exact, begin):
                continue
            found.append(Found(term, begin, origin[stop - 1] + 1))
    return found


def _by_lemma(stem: str, wildcard: bool, exact: str | None) -> bool:
    """Whether a term also matches by lemma: not a stem, not case-exact, in a spaced script."""
    return (
        not wildcard and exact is None and not any(_is_unspaced(c) or _is_hangul(c) for c in stem)
    )


def _fold_with_offsets(text: str) -> tuple[str, Sequence[int]]:
    """Fold `text` and map every folded index back to its index in `text`."""
    if text.isascii():
        return text.lower(), range(len(text))
    folded = _fold(text)
    # Only U+0307 folds to nothing (tested over every code point), so with it absent and the
    # length kept, every character folded to exactly one: offsets do not move.
    if len(folded) == len(text) and "\u0307" not in text:
        return folded, range(len(text))
    # some characters fold to several (ß → ss) or none (a combining dot above)
    sizes = {ch: len(_fold_char(ch)) for ch in set(text)}
    origin = [at for at, ch in enumerate(text) for _ in range(sizes[ch])]
    return folded, origin


def _word_end(folded: str, end: int, wildcard: bool) -> int | None:
    """Where the match really ends, or None when it stops in the middle of a word."""
    if wildcard:
        while end < len(folded) and folded[end].isalpha():
            end += 1
        return end
    if end == len(folded):
        return end
    after = folded[end]
    if not after.isalnum() and after not in APOSTROPHES:  # most hits: a space follows
        return end
    last = folded[end - 1]
    if _is_unspaced(last) or _is_hangul(last) or not last.isalnum():
        return end
    if after in APOSTROPHES:  # checked first: U+02BC counts as a letter
        if end + 1 < len(folded) and folded[end + 1].isalpha():
            end += 1
            while end < len(folded) and folded[end].isalpha():
                end += 1
        return end
    return None if after.isalnum() else end
