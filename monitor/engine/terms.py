"""Turn actor and vocabulary files into lexicon terms, each tagged with its language:
every alias, guard and vocabulary word, officials with their terms of office, and CLDR
country names for actors that name their territory."""

from collections.abc import Iterable, Iterator, Mapping

from monitor.engine.cldr import territory_name
from monitor.engine.lexicon import Term
from monitor.engine.schema import ActorSpec, LanguageSpec, OfficialSpec, VocabSpec


def actor_terms(
    actors: Iterable[ActorSpec], languages: Mapping[str, LanguageSpec] | None = None
) -> Iterator[Term]:
    """Every alias and guard of `actors`. With `languages`, official names a language does not
    list come from its `names_from` language, and `territory` adds CLDR names."""
    languages = languages or {}
    for actor in actors:
        for via, per_language in (
            ("name", actor.names),
            ("place", actor.places),
            ("media", actor.media),
        ):
            for language, text in _flatten(per_language):
                yield Term(text, "alias", actor.id, via, language=language)
        if actor.territory:
            for language in languages:
                name = territory_name(actor.territory, language)
                if name:
                    yield Term(name, "alias", actor.id, "name", language=language)
        for official in actor.officials:
            for language, text in _flatten(_official_names(official, languages)):
                yield Term(
                    text,
                    "alias",
                    actor.id,
                    f"official:{official.role}",
                    official.start,
                    official.end,
                    language,
                )
        for language, text in _flatten(actor.guards):
            yield Term(text, "guard", actor.id, language=language)


def vocab_terms(sets: Iterable[VocabSpec]) -> Iterator[Term]:
    for spec in sets:
        for language, text in _flatten(spec.terms):
            yield Term(text, "vocab", spec.id, language=language)
        for language, text in _flatten(spec.guards):
            yield Term(text, "vocab-guard", spec.id, language=language)


def _official_names(
    official: OfficialSpec, languages: Mapping[str, LanguageSpec]
) -> dict[str, tuple[str, ...]]:
    names = dict(official.names)
    for language, spec in languages.items():
        if language not in names and spec.names_from in names:
            names[language] = names[spec.names_from]
    return names


def _flatten(per_language: Mapping[str, tuple[str, ...]]) -> Iterator[tuple[str, str]]:
    for language, texts in per_language.items():
        for text in texts:
            yield language, text
