"""The rule set's languages (rules/languages/*.yaml), checked and compiled: which terms apply to
an item, how its words are lemmatised, and the small words that join lists and open clauses.

A language is data: its file names its script, its lemmatizer (simplemma, or none), a table of
its own lemmas, where officials' names come from, and its list and clause words. Adding a
language is adding that file and its entries in the actor and vocabulary files.
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from monitor import yamlpos
from monitor.engine.condition import close_match
from monitor.engine.language import Detector
from monitor.engine.lemma import Lemmas, supported
from monitor.engine.schema import ActorSpec, LanguageSpec, VocabSpec
from monitor.engine.segment import Clauses
from monitor.errors import Pos
from monitor.validation import dotted

# Used with no language files, and always: punctuation that joins list members.
_LIST_PUNCTUATION = r"[,;/、，·・&]"  # ・ is the Japanese list dot (中国・北朝鮮・ロシア)
_DEFAULT_CONJUNCTIONS = (
    *("and", "or", "и", "или", "ve", "veya", "ile", "및", "과", "와", "和", "与", "及", "と"),
)
DEFAULT_CLAUSES = Clauses(("while", "whereas", "but"), ("who", "which", "that", "the", "a", "in"))


@dataclass(frozen=True, slots=True)
class Languages:
    """Compiled language settings of one rule set."""

    specs: Mapping[str, LanguageSpec]
    detector: Detector
    list_gap: re.Pattern[str]  # what may stand between two neighbours of a list
    list_join: re.Pattern[str]  # one joiner of a list: a comma or a conjunction
    clauses: Clauses  # where a sentence's clauses begin

    @classmethod
    def of(cls, specs: Iterable[LanguageSpec]) -> "Languages":
        by_id = {s.id: s for s in specs}
        detector = Detector(
            scripts={s.id: s.script for s in by_id.values()},
            detectable=frozenset(s.id for s in by_id.values() if s.detect),
        )
        conjunctions = {w for s in by_id.values() for w in s.conjunctions}
        clause_words = {w for s in by_id.values() for w in s.clause_words}
        continuations = {w for s in by_id.values() for w in s.continuations}
        return cls(
            by_id,
            detector,
            list_gap(conjunctions),
            list_join(conjunctions),
            Clauses(clause_words, continuations),
        )

    def of_item(self, text: str, declared: str | None) -> tuple[str, ...]:
        """The languages whose terms apply to an item's text."""
        return self.detector.languages(text, declared)


def list_gap(conjunctions: Iterable[str] = _DEFAULT_CONJUNCTIONS) -> re.Pattern[str]:
    words = "|".join(sorted((re.escape(w) for w in conjunctions), key=len, reverse=True))
    joiner = f"(?:{_LIST_PUNCTUATION}|{words})" if words else _LIST_PUNCTUATION
    # Nothing between two names (a CJK compound) joins them; a bare space does not: in
    # "Seul'ün Rusya ile Kuzey Kore arasındaki" Seoul is the possessor, not a member.
    return re.compile(rf"^(?:\s*{joiner}\s*(?:{words or '(?!)'})?\s*)?$", re.IGNORECASE)


def list_join(conjunctions: Iterable[str] = _DEFAULT_CONJUNCTIONS) -> re.Pattern[str]:
    words = "|".join(sorted((re.escape(w) for w in conjunctions), key=len, reverse=True))
    joiner = rf"{_LIST_PUNCTUATION}|(?<!\w)(?:{words})(?!\w)" if words else _LIST_PUNCTUATION
    return re.compile(joiner, re.IGNORECASE)


def lemma_tables(specs: Iterable[LanguageSpec], fold: Callable[[str], str]) -> dict[str, Lemmas]:
    """The lemmatizer of each language that has one (simplemma, or its own table)."""
    return {
        s.id: Lemmas(s.id, s.lemmas, s.lemmatizer == "simplemma", fold)
        for s in specs
        if s.lemmatizer == "simplemma" or s.lemmas
    }


def check_languages(
    report: Callable[[Pos, str], None],
    languages: Iterable[Any],
    files: Iterable[Any],
    partial: set[str],
) -> None:
    """Every language key of every actor and vocabulary file names a language file, and every
    language file is usable. `languages` and `files` are loaded files (`.spec`, `.doc`)."""
    loaded = list(languages)
    known = {lang.spec.id for lang in loaded} | partial
    for lang in loaded:
        spec: LanguageSpec = lang.spec
        if spec.names_from is not None and spec.names_from not in known:
            report(
                lang.doc.pos_of(("names_from",)),
                f"names_from: unknown language '{spec.names_from}'"
                f"{close_match(spec.names_from, known)}",
            )
        if spec.lemmatizer == "simplemma" and not supported(spec.id):
            report(
                lang.doc.pos_of(("lemmatizer",)),
                f"lemmatizer: simplemma has no dictionary for '{spec.id}' (use none, "
                "and list the language's forms under lemmas:)",
            )
    for file in files:
        for loc, keys in _language_keys(file.spec):
            for key in keys:
                if key not in known:
                    report(
                        file.doc.pos_of((*loc, key)),
                        f"{dotted((*loc, key))}: unknown language '{key}' (no "
                        f"languages/{key}.yaml){close_match(key, known)}",
                    )


def _language_keys(spec: Any) -> Iterable[tuple[yamlpos.Loc, Iterable[str]]]:
    if isinstance(spec, ActorSpec):
        for field in ("names", "places", "media", "guards"):
            yield (field,), getattr(spec, field)
        for i, official in enumerate(spec.officials):
            yield ("officials", i, "names"), official.names
    elif isinstance(spec, VocabSpec):
        yield ("terms",), spec.terms
        yield ("guards",), spec.guards
