"""Find every dictionary term (actor aliases, guards, vocabulary) in a text in one pass.

The only user of pyahocorasick. Terms are NFKC + case-folded; a trailing `*` on the last word
means "this stem and any letters after it". Boundaries depend on the script:

- Latin, Cyrillic and other spaced scripts: whole words; an apostrophe suffix is allowed
  after any term ("Russia's", "Rusya'nın").
- Hangul: the term must start a word; any Hangul may follow (particles: 북한은, 북한과).
- Han and Kana: plain substrings (no spaces between words to anchor on).

A term written with a leading `=` matches only with exactly that case ("=US" is the country,
never the pronoun "us").
"""

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import ahocorasick

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


@dataclass(frozen=True, slots=True)
class Found:
    """A term found in a text: [start, end) offsets are in the original (unfolded) text."""

    term: Term
    start: int
    end: int


def fold(text: str) -> str:
    """The matching form of a text or term: NFKC, case-folded, Turkish i's merged."""
    return "".join(_fold_char(ch) for ch in unicodedata.normalize("NFKC", text))


def _fold_char(ch: str) -> str:
    # Turkish writes İ/i and I/ı; plain case folding turns "ÇİN" into "çi̇n" and "KIRIM"
    # into "kirim" while the dictionary says "Çin", "Kırım". Merging them costs nothing.
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
    """An Aho–Corasick automaton over every term; build once per rule set."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self._automaton = ahocorasick.Automaton()
        grouped: dict[str, list[tuple[Term, bool, str | None]]] = {}
        for term in terms:
            written = unicodedata.normalize("NFKC", term.text.strip())
            exact = written[1:].rstrip("*") if written.startswith("=") else None
            stem = fold(written.removeprefix("="))
            wildcard = stem.endswith("*")
            stem = " ".join(stem.rstrip("*").split())
            if stem:
                grouped.setdefault(stem, []).append((term, wildcard, exact))
        for stem, entries in grouped.items():
            self._automaton.add_word(stem, (stem, tuple(entries)))
        self.size = len(grouped)
        if grouped:
            self._automaton.make_automaton()

    def scan(self, text: str) -> list[Found]:
        """Every term occurrence in `text` that respects its script's word boundaries."""
        if not self.size:
            return []
        folded, origin = _fold_with_offsets(text)
        found: list[Found] = []
        for last, (stem, entries) in self._automaton.iter(folded):
            start = last - len(stem) + 1
            if not _starts_word(folded, start):
                continue
            for term, wildcard, exact in entries:
                end = _word_end(folded, last + 1, wildcard)
                if end is None:
                    continue
                begin = origin[start]
                if exact is not None and not text.startswith(exact, begin):
                    continue
                found.append(Found(term, begin, origin[end - 1] + 1))
        return found


def _fold_with_offsets(text: str) -> tuple[str, Sequence[int]]:
    """Fold `text` and map every folded index back to its index in `text`."""
    if text.isascii():
        return text.lower(), range(len(text))
    pieces: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        low = _fold_char(ch)
        pieces.append(low)
        origin.extend([i] * len(low))
    return "".join(pieces), origin


def _starts_word(folded: str, start: int) -> bool:
    first = folded[start]
    if _is_unspaced(first) or not first.isalnum() or start == 0:
        return True
    return not folded[start - 1].isalnum()


def _word_end(folded: str, end: int, wildcard: bool) -> int | None:
    """Where the match really ends, or None when it stops in the middle of a word."""
    last = folded[end - 1]
    if wildcard:
        while end < len(folded) and folded[end].isalpha():
            end += 1
        return end
    if end == len(folded) or _is_unspaced(last) or _is_hangul(last) or not last.isalnum():
        return end
    after = folded[end]
    if after in APOSTROPHES:  # checked first: U+02BC counts as a letter
        if end + 1 < len(folded) and folded[end + 1].isalpha():
            end += 1
            while end < len(folded) and folded[end].isalpha():
                end += 1
        return end
    return None if after.isalnum() else end
