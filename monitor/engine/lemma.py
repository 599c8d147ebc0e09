"""Words and their dictionary forms: tokens with offsets, lemmas per language, cached.

The only user of simplemma, whose dictionaries ship inside its wheel (nothing is downloaded).
They are read as simplemma's low-memory mode reads them (the decompressed stream, decoded a
block at a time; about 20 MB per language instead of 130), the first time a language is
needed; the block index that mode builds record by record (seconds per language) is built
by `frontcode` in array passes, the same index, so every lookup answers what simplemma's own
reader answers (should the format ever differ from what `frontcode` expects, simplemma's
reader is used). Given a folder (`use_dictionary_files`), the stream and its index are written
there once and read from the file a block at a time by every process (`lemmafiles`), instead
of each holding a copy. Each word form is looked up once per process and remembered. A language
file's own `lemmas:` table (form → lemma) is consulted first: it fills the library's gaps
and lets a language without a simplemma dictionary inflect from data alone.
"""

import logging
import re
import struct
import threading
from bisect import bisect_right
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate
from pathlib import Path

from simplemma import Lemmatizer
from simplemma.strategies import DefaultStrategy
from simplemma.strategies.dictionaries import frontcode as stream  # the format's reader
from simplemma.strategies.dictionaries.dictionary_factory import (
    SUPPORTED_LANGUAGES,
    CachingDictionaryFactory,
    DecodedStrMapping,
    _read_decompressed,
)
from simplemma.strategies.dictionaries.stream_dictionary_factory import StreamMap

from monitor.engine import lemmafiles
from monitor.engine.heap import release_memory

log = logging.getLogger(__name__)

# A word: letters and digits (hyphens, apostrophes and everything else separate words).
_WORD = re.compile(r"[^\W_]+")
_SPLIT = re.compile(r"([^\W_]+)")  # the same words, with the gaps around them
# remembered forms per language before the cache starts afresh: ~290 B each with its lemma,
# so at most ~30 MB per language and process (500,000 was up to 145 MB, which months of a
# language's names, figures and misspellings can fill)
_CACHE_LIMIT = 100_000
_lock = threading.Lock()
_folder: Path | None = None  # where this process's dictionaries are kept as files, if anywhere


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    text: str


def tokens(text: str) -> list[Token]:
    """The words of `text` with their [start, end) offsets."""
    return [Token(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def use_dictionary_files(folder: Path | None) -> None:
    """Keep the dictionaries this process opens from now on as files in `folder`, read a
    block at a time through the page cache that every process shares (`lemmafiles`); None:
    each one in this process's own memory."""
    global _folder
    _folder = folder


def supported(language: str) -> bool:
    """Whether simplemma has a dictionary for `language`."""
    return language in SUPPORTED_LANGUAGES


class _InMemory:
    """A dictionary's stream and `frontcode`'s block index over it, in this process."""

    __slots__ = ("_data", "_first", "_seeds")

    def __init__(self, data: bytes, first: int, seeds: lemmafiles.Seeds) -> None:
        self._data, self._first, self._seeds = data, first, seeds

    def block(self, key: bytes) -> lemmafiles.Block | None:
        block = bisect_right(self._seeds.firsts, key) - 1
        return None if block < 0 else (self._data, *self._seeds.seed(block))

    def blocks(self) -> Iterator[lemmafiles.Block]:
        yield self._data, self._first, b"", b""  # one run of every record


class _Dictionary(DecodedStrMapping):
    """One language's dictionary: simplemma's records, looked up exactly as its `StreamMap`
    does, from the block that holds a key (in this process, or read from its file)."""

    __slots__ = ("_blocks", "_count", "_damaged", "_reverse")

    def __init__(
        self, blocks: _InMemory | lemmafiles.DictionaryFile, reverse: bool, count: int
    ) -> None:
        self._blocks, self._reverse, self._count = blocks, reverse, count
        self._damaged = False

    @classmethod
    def of(cls, file: lemmafiles.DictionaryFile) -> "_Dictionary":
        return cls(file, file.reverse, file.count)

    def _lookup(self, key: str) -> str | None:
        target = key.encode()
        if self._reverse:
            target = target[::-1]
        try:
            return self._find(target)
        except (ValueError, IndexError, struct.error, OSError) as exc:
            # a file damaged after it was checked (a disk error): the word is taken as
            # missing, so matching goes on with its written form, and the log says so once
            if not self._damaged:
                self._damaged = True
                log.error(
                    "lemma dictionary file damaged: its words are taken as not in it; remove"
                    " the file to have it written again",
                    extra={"path": str(getattr(self._blocks, "path", "")), "error": str(exc)},
                )
            return None

    def _find(self, target: bytes) -> str | None:
        block = self._blocks.block(target)
        if block is None:
            return None
        # sorted keys bound the scan: a later key past the target means it is not there
        for _, stored_key, stored_value in stream._iter_records(*block):
            if stored_key == target:
                return (stored_value[::-1] if self._reverse else stored_value).decode()
            if stored_key > target:
                return None
        return None

    def __iter__(self) -> Iterator[str]:
        for block in self._blocks.blocks():
            for _, stored_key, _ in stream._iter_records(*block):
                yield (stored_key[::-1] if self._reverse else stored_key).decode()

    def __len__(self) -> int:
        return self._count


class _Dictionaries(CachingDictionaryFactory):
    """simplemma's dictionaries, opened with `frontcode`'s index (simplemma's own reader when
    a stream is not of the shape it expects)."""

    __slots__ = ()

    def _get_dictionary_uncached(self, lang: str) -> Mapping[str, str]:
        folder = _folder
        file = None if folder is None else lemmafiles.open_file(folder, lang)
        if file is not None:
            return _Dictionary.of(file)
        # imported here: only a process that builds a dictionary's index needs numpy
        from monitor.engine import frontcode

        data = _read_decompressed(lang)
        reverse, count, first = stream._read_header(data)
        seeds = frontcode.index(data, first, count)
        release_memory()
        if seeds is None:
            return StreamMap(lang)
        if folder is not None:
            try:
                lemmafiles.write(folder, lang, data, reverse, count, seeds)
            except OSError as exc:
                log.warning(
                    "lemma dictionary kept in memory: cannot write its file",
                    extra={"language": lang, "folder": str(folder), "error": str(exc)},
                )
            else:
                file = lemmafiles.open_file(folder, lang)
        if file is None:
            return _Dictionary(_InMemory(data, first, seeds), reverse, count)
        del data, seeds
        release_memory()
        return _Dictionary.of(file)


@cache
def _lemmatizer() -> Lemmatizer:
    return Lemmatizer(lemmatization_strategy=DefaultStrategy(dictionary_factory=_Dictionaries()))


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

    def many(self, words: list[str]) -> list[str]:
        """`of` for each word (remembered ones straight from the cache)."""
        found = list(map(self._cache.get, words))
        if None in found:
            return [lemma or self.of(word) for lemma, word in zip(found, words, strict=True)]
        return found  # type: ignore[return-value]  # no None in it

    def _lookup(self, word: str) -> str:
        with _lock:  # the first lookup of a language opens its dictionary
            return str(_lemmatizer().lemmatize(word, lang=self.language))

    def phrase(self, text: str) -> str:
        """A term's words as lemmas, one space apart ('' when it has no word)."""
        return " ".join(self.of(t.text) for t in tokens(text))

    def written(self, text: str) -> str:
        """A term's words folded as written, one space apart: the dictionary forms its author
        gave, which the library sometimes takes further (pl "uzbrojenie" to the verb
        "uzbroić", while the text's "uzbrojenia" goes to "uzbrojenie")."""
        return " ".join(self._fold(t.text) for t in tokens(text))


@dataclass(frozen=True, slots=True)
class LemmaText:
    """A text as a stream of lemmas (' a b c '), each mapped back to its word in the text."""

    stream: str
    pieces: list[str]  # the text split into gap, word, gap, word, …, gap
    _ends: list[int] = field(default_factory=list)  # where each piece ends (on the first hit)

    @classmethod
    def of(cls, text: str, lemmas: Lemmas) -> "LemmaText":
        pieces = _SPLIT.split(text)
        return cls(f" {' '.join(lemmas.many(pieces[1::2]))} ", pieces)

    def span(self, first: int, last: int) -> tuple[int, int]:
        """Text offsets of the words whose lemmas start at stream index `first` … `last`
        (most texts have no hit, so the offsets are only added up for one that has)."""
        if not self._ends:
            self._ends.extend(accumulate(map(len, self.pieces)))
        # a lemma's word number: the spaces before it in the stream, less the leading one
        one = self.stream.count(" ", 0, first) - 1
        other = one + self.stream.count(" ", first, last)
        return self._ends[2 * one], self._ends[2 * other + 1]
