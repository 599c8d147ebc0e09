"""Turn actor and vocabulary files into lexicon terms: every alias, guard and vocabulary word,
officials with their terms of office."""

from collections.abc import Iterator, Mapping

from monitor.engine.lexicon import Term
from monitor.engine.schema import ActorSpec, VocabSpec


def actor_terms(actors: Iterator[ActorSpec]) -> Iterator[Term]:
    for actor in actors:
        for via, per_language in (
            ("name", actor.names),
            ("place", actor.places),
            ("media", actor.media),
        ):
            for text in _flatten(per_language):
                yield Term(text, "alias", actor.id, via)
        for official in actor.officials:
            for text in _flatten(official.names):
                yield Term(
                    text,
                    "alias",
                    actor.id,
                    f"official:{official.role}",
                    official.start,
                    official.end,
                )
        for text in _flatten(actor.guards):
            yield Term(text, "guard", actor.id)


def vocab_terms(sets: Iterator[VocabSpec]) -> Iterator[Term]:
    for spec in sets:
        for text in _flatten(spec.terms):
            yield Term(text, "vocab", spec.id)


def _flatten(per_language: Mapping[str, tuple[str, ...]]) -> Iterator[str]:
    for texts in per_language.values():
        yield from texts
