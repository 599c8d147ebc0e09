"""py3langid's classifier restricted to a rule set's languages, loaded once per process.

The only user of py3langid (its model ships inside the package; nothing is downloaded).
`language` imports this module only when a text's script has more than one candidate
language, so a process that never classifies never loads the model (nor numpy under it).
"""

import copy
import re
import threading
from array import array
from collections import Counter
from typing import Any

from py3langid.langid import MODEL_FILE, LanguageIdentifier

from monitor.engine.heap import release_memory

# A second language is kept when the text is too short to decide: its share of the probability
# (among the candidates of the text's script) is at least this.
SECOND_GUESS = 0.2
_lock = threading.Lock()


class _Identifier(LanguageIdentifier):  # type: ignore[misc]
    """py3langid's classifier, walking its byte automaton a word at a time with memory.

    The automaton's state after a word depends only on the state before it and the word, so
    (state, word) → (state after, features seen) is remembered; the features come out in the
    same order as a byte-by-byte walk, so the scores are the library's to the last bit."""

    __slots__ = ("_words",)

    def _raw_score(self, text: bytes) -> Any:
        visits = self._visits(text)
        if visits:
            return self._sparse_score(visits, self.nb_ptc)
        return super()._raw_score(b"")  # no feature: the library's own fill

    def _visits(self, text: bytes) -> Counter[int] | None:
        words: dict[tuple[int, bytes], tuple[int, tuple[int, ...]]] = self._words
        if len(words) > _WORDS_KEPT:
            words.clear()
        state, found = 0, list[int]()
        for word in _PIECES.findall(text):  # each word with the space after it
            known = words.get((state, word))
            if known is None:
                known = words[(state, word)] = self._walk(state, word)
            state = known[0]
            found += known[1]
        return Counter(found) if found else None

    def _walk(self, state: int, word: bytes) -> tuple[int, tuple[int, ...]]:
        """py3langid's `visit_counts` over one word: the state after it, the features seen."""
        nextmove, rowbase, output = self.tk_nextmove, self._rowbase, self.tk_output
        seen = []
        for letter in word:
            state = nextmove[rowbase[state] + letter]
            feature = output[state]
            if feature >= 0:
                seen.append(feature)
        return state, tuple(seen)


_PIECES = re.compile(rb"[^ ]* ?")  # pieces of a text; joined, they are the text
_WORDS_KEPT = 50_000  # remembered (state, word) walks before starting afresh
_identifiers: dict[tuple[str, ...], _Identifier] = {}
_kept: _Identifier | None = None  # the whole model, in a process that keeps it (`keep_model`)


def keep_model() -> None:
    """Load the whole model now and keep it, in a process that others are forked from (the
    readers' forkserver): the forks then share its pages, which nothing writes to, instead
    of each reading and holding a copy of its own."""
    global _kept
    with _lock:
        if _kept is None:
            _kept = _load()


def _load() -> _Identifier:
    model: _Identifier = _Identifier.from_model_file(MODEL_FILE, norm_probs=True)
    # arrays, not lists of ints: walking a list writes to each int's reference count, and
    # writing is what makes a forked process copy a page it shared
    model._rowbase = array("I", model._rowbase)
    model.tk_output = array("i", model.tk_output)
    return model


def _identifier(candidates: tuple[str, ...], family: tuple[tuple[str, ...], ...]) -> _Identifier:
    """A classifier restricted to `candidates`, built (with the rest of `family`) from one
    load of the model. Each keeps only its own columns of the model and all share its byte
    automaton, so the full tables (70 MB) are dropped; they are read again only for a set of
    candidates not seen before (a reload that adds a language). A kept model is used as it
    is, never read again."""
    with _lock:
        if candidates not in _identifiers:
            model = _kept if _kept is not None else _load()
            known = set(model.nb_classes)
            shared = next(iter(_identifiers.values()), model)  # one automaton per process
            for wanted in {candidates, *family} - set(_identifiers):
                identifier = copy.copy(model)
                identifier.set_languages([c for c in wanted if c in known])
                # set_languages keeps the full tables for a later call; there is none
                identifier._full_model = (
                    identifier.nb_ptc,
                    identifier.nb_pc,
                    identifier.nb_classes,
                )
                identifier.tk_nextmove, identifier.tk_output = shared.tk_nextmove, shared.tk_output
                identifier.tk_row, identifier._rowbase = shared.tk_row, shared._rowbase
                identifier._words = {}
                _identifiers[wanted] = identifier
            if model is not _kept:
                del model
                release_memory()  # the full tables just dropped
        return _identifiers[candidates]


def classify(
    text: str, candidates: tuple[str, ...], family: tuple[tuple[str, ...], ...] = ()
) -> tuple[str, ...]:
    identifier = _identifier(candidates, family)
    if not identifier.nb_classes:
        return ()
    ranked = identifier.rank(text)
    best, best_p = ranked[0]
    if len(ranked) > 1 and ranked[1][1] >= SECOND_GUESS * (best_p + ranked[1][1]):
        return (str(best), str(ranked[1][0]))
    return (str(best),)
