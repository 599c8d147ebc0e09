"""The shape of rule, actor, vocabulary, language and seed files, checked with pydantic (extra
keys are errors). Conditions (`evidence`, `exclude`, `implies[].when`) are free-form here and
parsed by monitor.engine.condition, which reports their errors with their own positions."""

import re
from datetime import date
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from monitor.fields import Duration
from monitor.model import Level
from monitor.spikes import ALPHA, BASELINE_DAYS, MIN_COUNT, MIN_HISTORY

Direction = Literal["either", "a->b"]  # "undirected" in a file means "either"
# clause: the same sentence and, when a clause break lies between the two, the first one opens
# the sentence (it is the subject of both clauses)
DyadScope = Literal["clause", "sentence", "with_title", "title", "item"]
Script = Literal["latin", "cyrillic", "hangul", "han", "kana", "other"]
EvidenceScope = Literal["same", "near", "near_title", "item"]
ExcludeScope = Literal["evidence", "dyad"]
_ACTOR_ID = r"^[A-Z][A-Z0-9_]{1,15}$"
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def _language_keys(value: Any) -> Any:
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str) or not _LANGUAGE_CODE.match(k)]
        if bad:
            raise ValueError(f"'{bad[0]}' is not a language code (use en, pl, de, ru, zh …)")
        return {k: [] if v is None else v for k, v in value.items()}
    return value


PerLanguage = Annotated[dict[str, tuple[str, ...]], BeforeValidator(_language_keys)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class OfficialSpec(_Strict):
    names: PerLanguage
    role: str
    start: date = Field(alias="from")
    end: date | None = Field(default=None, alias="to")


class LanguageSpec(_Strict):
    """rules/languages/<id>.yaml: how text in one language is matched."""

    id: str = Field(pattern=r"^[a-z]{2,3}$")
    name: str
    script: Script
    # simplemma: terms and text are compared by lemma too (any inflected form of a listed word);
    # none: written forms only (names, scripts without inflection, or a language simplemma lacks)
    lemmatizer: Literal["simplemma", "none"] = "none"
    # py3langid may assign this language to an item whose feed names none
    detect: bool = True
    # officials' names not listed in this language are taken from that one (same script)
    names_from: str | None = None
    # word form -> lemma, applied before (and instead of) the lemmatizer: its gaps, or a whole
    # toy language's inflection
    lemmas: dict[str, str] = {}
    # words that join the members of a list ("Rosja, Chiny i Iran"): lists are not pairs
    conjunctions: tuple[str, ...] = ()
    # words that open a new clause inside a sentence ("while", "but"): see dyad scope `clause`
    clause_words: tuple[str, ...] = ()
    # lower-case words after a comma that continue the clause ("who", "which", "in"); any other
    # lower-case word after a comma opens a new one ("…pressure Russia, condemn …")
    continuations: tuple[str, ...] = ()


class ActorSpec(_Strict):
    id: str = Field(pattern=_ACTOR_ID)
    name: str
    kind: Literal["state", "group", "organisation"] = "state"
    # ISO 3166-1 alpha-2: the country's name in every language is taken from CLDR (Babel)
    territory: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    members: tuple[str, ...] = ()
    names: PerLanguage = {}
    places: PerLanguage = {}
    media: PerLanguage = {}
    officials: tuple[OfficialSpec, ...] = ()
    guards: PerLanguage = {}


class VocabSpec(_Strict):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9_]{1,47}$")
    description: str = ""
    terms: PerLanguage
    # phrases that contain a term but do not mean it ("Tomb of the Unknown Soldier")
    guards: PerLanguage = {}


class SeedClaim(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    text: str
    actors: tuple[str, ...] = ()
    dates: tuple[date, ...] = ()
    signal: str | None = None
    sources: tuple[str, ...] = ()


class SeedSource(_Strict):
    name: str
    note: str = ""


class SeedSpec(_Strict):
    id: str
    title: str
    publisher: str
    author: str | None = None
    published: date | None = None
    url: str | None = None
    language: str | None = None
    summary: str = ""
    actors: tuple[str, ...] = ()
    claims: tuple[SeedClaim, ...]
    sources: tuple[SeedSource, ...] = ()


class DyadSpec(_Strict):
    a: str
    b: str
    direction: Literal["either", "undirected", "a->b"] = "either"
    # ignore: two states that are only neighbours in a list of three or more ("China, Russia,
    # North Korea and Iran") are not a pair; count: they are (a trilateral meeting is one)
    lists: Literal["count", "ignore"] = "count"


class ScopeSpec(_Strict):
    dyad: DyadScope = "sentence"
    # same: the dyad's own unit; item: anywhere; near: the same unit, or anywhere in the item
    # when the pair is named in the title (headlines name a relationship, bodies describe it)
    evidence: EvidenceScope = "same"
    # where exclusions are looked for: where the evidence was, or only the dyad's own unit
    exclude: ExcludeScope = "evidence"


class ExampleSpec(_Strict):
    text: str
    summary: str = ""  # the item's body, for rules whose evidence may sit outside the title
    day: date | None = Field(default=None, alias="date")
    lang: str | None = None  # None: detected, as for an item whose feed names no language


class ImpliesSpec(_Strict):
    """An actor counts as present in a unit where `when` holds (it is implied, not named)."""

    actor: str
    when: Any
    note: str = ""


def _scope(value: Any) -> Any:
    return {"dyad": value} if isinstance(value, str) else value


def _examples(value: Any) -> Any:
    if isinstance(value, list):
        return [{"text": v} if isinstance(v, str) else v for v in value]
    return value


Examples = Annotated[tuple[ExampleSpec, ...], BeforeValidator(_examples)]


class ExamplesSpec(_Strict):
    match: Examples = ()
    no_match: Examples = ()


class RuleSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    title: str
    description: str = ""
    level: Level
    tags: tuple[str, ...] = ()
    seed: str
    dyad: DyadSpec
    scope: Annotated[ScopeSpec, BeforeValidator(_scope)] = ScopeSpec()
    evidence: Any = None
    exclude: Any = None
    implies: tuple[ImpliesSpec, ...] = ()
    notify: tuple[str, ...] = ()
    realert: Duration | None = None  # after an alert, this rule stays quiet on that target
    enabled: bool = True
    examples: ExamplesSpec = ExamplesSpec()

    @field_validator("seed")
    @classmethod
    def _seed_reference(cls, seed: str) -> str:
        if not re.match(r"^[^#\s]+\.ya?ml#[a-z0-9][a-z0-9-]*$", seed):
            raise ValueError(f"'{seed}' is not a seed claim (use seeds/<file>.yaml#<claim-id>)")
        return seed


# --- spike rules (kind: spike), compiled by monitor.engine.watches -----------------------


class WatchTarget(_Strict):
    rule: str | None = None
    dyad: tuple[str, str] | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.rule is None) == (self.dyad is None):
            raise ValueError("watch a rule ({rule: ID}) or a dyad ({dyad: [A, B]}), not both")
        return self


def _series(text: str) -> str:
    parts = text.split()
    if len(parts) < 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"'{text}' is not a series of daily counts, e.g. '0 1 0 2 0 9'")
    return text


class SpikeExamples(_Strict):
    spike: tuple[str, ...] = ()  # series whose last day must alert
    calm: tuple[str, ...] = ()  # series whose last day must not

    @field_validator("spike", "calm")
    @classmethod
    def _counts(cls, series: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_series(s) for s in series)


class WatchSpec(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    kind: Literal["spike"]
    title: str
    description: str = ""
    level: Level
    tags: tuple[str, ...] = ()
    seed: str
    watch: WatchTarget
    baseline: int = Field(default=BASELINE_DAYS, ge=3, le=365)
    min_count: int = Field(default=MIN_COUNT, ge=1)
    alpha: float = Field(default=ALPHA, gt=0, lt=0.5)
    min_history: int = Field(default=MIN_HISTORY, ge=1)
    notify: tuple[str, ...] = ()
    enabled: bool = True
    examples: SpikeExamples = SpikeExamples()
