"""Words and their dictionary forms: tokens with offsets, lemmas per language, cached.

The only user of simplemma, whose dictionaries ship inside its wheel (nothing is downloaded).
They are opened in its low-memory mode (about 20 MB per language instead of 130) the first
time a language is needed, so building a rule set stays fast; each word form is looked up
once per process and remembered. A language file's own `lemmas:` table (form → lemma) is
consulted first: it fills the library's gaps and lets a language without a simplemma
dictionary inflect from data alone.
"""

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from simplemma import Lemmatizer
from simplemma.strategies import DefaultStrategy
from simplemma.strategies.dictionaries.dictionary_factory import SUPPORTED_LANGUAGES

# A word: letters and digits (hyphens, apostrophes and everything else separate words).
_WORD = re.compile(r"[^\W_]+")
_CACHE_LIMIT = 500_000  # remembered forms per language before the cache starts afresh
_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    text: str


def tokens(text: str) -> list[Token]:
    """The words of `text` with their [start, end) offsets."""
    return [Token(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def supported(language: str) -> bool:
    """Whether simplemma has a dictionary for `language`."""
    return language in SUPPORTED_LANGUAGES


@cache
def _lemmatizer() -> Lemmatizer:
    return Lemmatizer(lemmatization_strategy=DefaultStrategy(low_memory=True))


class Lemmas:
    """Lemmas of one language: the language file's table first, then simplemma (if any).

    `fold` is the matching form (NFKC, case folding) applied to forms and lemmas alike.
    """

    def __init__(
        self,
        language: str,
        table: Mapping[str, str],
        use_library: bool,
        fold: Callable[[str], str],
    ) -> None:
        self.language = language
        self._fold = fold
        self._table = {fold(k): fold(v) for k, v in table.items()}
        self._library = use_library and supported(language)
        self._cache: dict[str, str] = {}

    def of(self, word: str) -> str:
        """The folded lemma of one word as written."""
        found = self._cache.get(word)
        if found is not None:
            return found
        folded = self._fold(word)
        lemma = self._table.get(folded)
        if lemma is None and self._library:
            lemma = self._fold(self._lookup(word))
            if lemma == folded and word[:1].isupper():  # a capital that only opens a sentence
                lemma = self._fold(self._lookup(word.lower()))
        if lemma is None:
            lemma = folded
        lemma = lemma.replace(" ", "") or folded  # one lemma per word, never empty
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[word] = lemma
        return lemma

    def _lookup(self, word: str) -> str:
        with _lock:  # the first lookup of a language opens its dictionary
            return str(_lemmatizer().lemmatize(word, lang=self.language))

    def phrase(self, text: str) -> str:
        """A term's words as lemmas, one space apart ('' when it has no word)."""
        return " ".join(self.of(t.text) for t in tokens(text))


@dataclass(frozen=True, slots=True)
class LemmaText:
    """A text as a stream of lemmas (' a b c '), each mapped back to its word in the text."""

    stream: str
    starts: Mapping[int, int]  # stream index where a lemma starts -> the word's number
    text: str
    _spans: list[tuple[int, int]] = field(default_factory=list)  # found on the first hit

    @classmethod
    def of(cls, text: str, lemmas: Lemmas) -> "LemmaText":
        of = lemmas.of
        folded = [of(word) for word in _WORD.findall(text)]
        starts: dict[int, int] = {}
        at = 1
        for number, lemma in enumerate(folded):
            starts[at] = number
            at += len(lemma) + 1
        return cls(f" {' '.join(folded)} ", starts, text)

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Text offsets of the words whose lemmas start at stream index `first` … `last`
        (found again only for a hit, which is rare)."""
        if not self._spans:
            self._spans.extend(m.span() for m in _WORD.finditer(self.text))
        return self._spans[self.starts[first]][0], self._spans[self.starts[last]][1]
