"""Split an item's text into sentences, and sentences into clauses. Pure; no dictionaries.

The item text is its title, a newline, then its summary. The title is always sentence 0.
Sentences end at . ! ? followed by space and a capital/digit/quote (not after an
abbreviation or a single initial, so "U.S. officials" and "N. Korea" hold together), at
the full-width terminators 。！？ (Chinese and Japanese need no space), and at line breaks.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof gen lt col maj capt sgt adm gov sen rep st no vs etc jr sr inc corp "
    "ltd co jan feb mar apr jun jul aug sep sept oct nov dec u.s u.k u.n e.u a.m p.m approx "
    "г гг т.е т.д им ул".split()
)
_END = re.compile(r"[.!?…]+[\"'”’»)]*[ \t]+|[。！？]+[」』”’)）]*[ \t]*")
_LINE = re.compile(r"[^\n]+")
_STOP = re.compile(r"[.!?…。！？]")  # every match of _END starts with one of these


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    text: str


def item_text(title: str, summary: str) -> str:
    """The one text that matching and evidence offsets refer to."""
    return f"{title}\n{summary}" if summary else title


def split_sentences(text: str) -> list[Sentence]:
    """Sentences of `text` with their offsets; a line break always ends one."""
    sentences: list[Sentence] = []
    for line in _LINE.finditer(text):
        start = line.start()
        # most lines of a headline feed have no terminator: skip the slower search in them
        ends = (
            _END.finditer(text, start, line.end()) if _STOP.search(text, start, line.end()) else ()
        )
        for found in ends:
            if found.group(0)[0] in ".!?…" and _is_abbreviation(text, found.start(), found.end()):
                continue
            _add(sentences, text, start, found.end())
            start = found.end()
        _add(sentences, text, start, line.end())
    return sentences


def _is_abbreviation(text: str, dot: int, after: int) -> bool:
    words = text[:dot].split()
    word = words[-1].lower().lstrip("(\"'“«") if words else ""
    if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return True
    following = text[after : after + 1]
    # a lower-case continuation means the full stop did not end the sentence ("approx. five")
    return bool(following) and following.islower()


def _add(sentences: list[Sentence], text: str, start: int, end: int) -> None:
    piece = text[start:end]
    stripped = piece.strip()
    if stripped:
        offset = start + piece.index(stripped[0])
        sentences.append(Sentence(offset, offset + len(stripped), stripped))


# A clause ends at a semicolon, a spaced dash, a clause word ("while", "but"), or a comma
# followed by a lower-case word that does not continue the clause ("…pressure Russia, condemn").
_ASIDE_WORDS = 4  # "according to Seoul's spy agency" is a clause of its own at five
_BREAK = re.compile(r";\s+|\s[-–—]\s+|,\s+(?=([^\W\d_][\w'’-]*))|\s(?=([^\W\d_][\w'’-]*)\s)")


@dataclass(frozen=True, slots=True)
class Clauses:
    """Where the clauses of a sentence begin; the words come from the language files."""

    words: frozenset[str] = field(default_factory=frozenset)
    continuations: frozenset[str] = field(default_factory=frozenset)

    def __init__(self, words: Iterable[str] = (), continuations: Iterable[str] = ()) -> None:
        object.__setattr__(self, "words", frozenset(w.casefold() for w in words))
        object.__setattr__(self, "continuations", frozenset(w.casefold() for w in continuations))

    def starts(self, text: str) -> list[int]:
        """Offsets in `text` where a clause after the first one begins."""
        found = []
        aside_end = -1
        for m in _BREAK.finditer(text):
            if m.start() < aside_end:
                continue
            after_comma, spaced = m.group(1), m.group(2)
            if spaced is not None:  # a plain space: a break only before a clause word
                if spaced.casefold() in self.words:
                    found.append(m.end())
                continue
            if after_comma is not None:
                word = after_comma.casefold()
                if word in self.words:
                    found.append(m.end())
                elif after_comma[0].islower() and word not in self.continuations:
                    aside_end = self._aside_end(text, m.end())
                    if aside_end < 0:
                        found.append(m.end())
                continue
            found.append(m.end())
        return found

    def _aside_end(self, text: str, start: int) -> int:
        """Where a short phrase set off by commas ends ("КНДР, за даними Сеула, передала",
        "Russia said, however, that"): the clause goes on through it. -1 if there is none."""
        close = text.find(",", start)
        aside = text[start:close].split()
        if close < 0 or not 1 <= len(aside) <= _ASIDE_WORDS or ";" in text[start:close]:
            return -1
        if any(w.casefold() in self.words for w in aside):
            return -1
        return close + 1
