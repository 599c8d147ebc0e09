"""Load rules/, its actors and vocabulary, and seeds/ into one compiled, immutable `RuleSet`.

Every file is validated and every problem is collected before anything is raised, so a user
sees all errors at once (`path:line:col: error: …`).
"""

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from monitor import validation, yamlpos
from monitor.engine.cldr import release_locale_data
from monitor.engine.condition import ConditionParser, actor_refs, close_match, vocab_refs
from monitor.engine.heap import release_memory
from monitor.engine.languages import Languages, check_languages, lemma_tables
from monitor.engine.lexicon import Lexicon, fold
from monitor.engine.ruleset import Actor, Example, Implied, Rule, RuleSet
from monitor.engine.schema import ActorSpec, LanguageSpec, RuleSpec, SeedSpec, VocabSpec, WatchSpec
from monitor.engine.terms import actor_terms, vocab_terms
from monitor.engine.watches import Watch, compile_watch
from monitor.errors import InvalidFile, Pos, Problem, RuleError
from monitor.validation import Spec


def load_ruleset(rules_dir: Path, seeds_dir: Path) -> RuleSet:
    """Read and compile every rule, actor, vocabulary and seed file.

    Raises:
        RuleError: every problem found in every file.
    """
    loader = _Loader()
    language_dir = rules_dir / "languages"
    langs = loader.load_all(_yaml_files(language_dir), LanguageSpec, "language")
    actors = loader.load_all(_yaml_files(rules_dir / "actors"), ActorSpec, "actor")
    vocab = loader.load_all(_yaml_files(rules_dir / "vocab"), VocabSpec, "vocab")
    seeds = loader.load_all(_yaml_files(seeds_dir), SeedSpec, "seed")
    rules = loader.load_rules(_yaml_files(rules_dir))
    for kind, specs in (
        ("language", langs),
        ("actor", actors),
        ("vocabulary set", vocab),
        ("rule", [*rules, *loader.watches]),
    ):
        loader.check_unique(kind, specs)
    loader.check_actors(actors)
    languages = {lang.spec.id: lang.spec for lang in langs}
    if language_dir.is_dir():
        check_languages(loader.error, langs, [*actors, *vocab], loader.partial_ids["language"])
    context = _Context(
        actors={a.spec.id: a.spec for a in actors},
        vocab={v.spec.id: v.spec for v in vocab},
        known_actors={a.spec.id for a in actors} | loader.partial_ids["actor"],
        known_vocab={v.spec.id for v in vocab} | loader.partial_ids["vocab"],
        claims={s.doc.path.rsplit("/", 1)[-1]: {c.id for c in s.spec.claims} for s in seeds},
        seeds_dir=str(seeds_dir),
    )
    compiled = [loader.compile_rule(r, context) for r in rules]
    watches = loader.compile_watches(rules, context)
    loader.check_unvalidated_conditions(context)
    loader.warn_unused(vocab, compiled, rules)
    if loader.problems:
        raise RuleError(sorted(loader.problems, key=_order))
    terms = [*actor_terms((a.spec for a in actors), languages), *vocab_terms(v.spec for v in vocab)]
    release_locale_data()  # the country names are in the terms
    lexicon = Lexicon(terms, lemma_tables(languages.values(), fold))
    release_memory()  # what the files' parsing left free, handed back
    live = [r for r, loaded in zip(compiled, rules, strict=True) if r and loaded.spec.enabled]
    rule_tuple = tuple(replace(r, order=i) for i, r in enumerate(live))
    everything = "".join(sorted(r.version for r in rule_tuple)) + repr(watches)
    actor_map = {a.spec.id: Actor(a.spec.id, a.spec.name, a.spec.members) for a in actors}
    return RuleSet(
        rules=rule_tuple,
        actors=actor_map,
        by_actor=_index(rule_tuple, actor_map),
        by_id={r.id: r for r in rule_tuple},
        lexicon=lexicon,
        languages=Languages.of(languages.values()) if language_dir.is_dir() else None,
        version=hashlib.sha256(everything.encode()).hexdigest()[:12],
        warnings=tuple(loader.warnings),
        watches=watches,
    )


@dataclass(frozen=True, slots=True)
class _Loaded:
    spec: Any
    doc: yamlpos.Located
    loc: yamlpos.Loc = ()


@dataclass(frozen=True, slots=True)
class _Context:
    """What rules are checked against."""

    actors: Mapping[str, ActorSpec]
    vocab: Mapping[str, VocabSpec]
    known_actors: set[str]  # valid ones plus those of files with errors (no cascades)
    known_vocab: set[str]
    claims: Mapping[str, set[str]]  # seed file name -> claim ids
    seeds_dir: str


class _Loader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        # ids of files that failed validation: rules naming them get no second error
        self.partial_ids: dict[str, set[str]] = {
            "actor": set(),
            "vocab": set(),
            "seed": set(),
            "language": set(),
        }
        self.unvalidated_rules: list[tuple[yamlpos.Located, yamlpos.Loc, dict[str, Any]]] = []
        self.watches: list[_Loaded] = []  # spike rules, validated

    def load_all(self, paths: list[Path], model: type[Spec], kind: str) -> list[_Loaded]:
        loaded = []
        for path in paths:
            doc = self._read(path)
            if doc is None:
                continue
            spec = self._validate(doc, doc.value, model, ())
            if spec is not None:
                loaded.append(_Loaded(spec, doc))
            elif isinstance(doc.value, dict) and isinstance(doc.value.get("id"), str):
                self.partial_ids[kind].add(doc.value["id"])
        return loaded

    def load_rules(self, paths: list[Path]) -> list[_Loaded]:
        """A rule file holds one rule, or several under `rules:`."""
        loaded = []
        for path in paths:
            doc = self._read(path)
            if doc is None:
                continue
            value = doc.value
            entries: list[tuple[Any, yamlpos.Loc]] = [(value, ())]
            if isinstance(value, dict) and set(value) == {"rules"}:
                listed = value["rules"]
                if not isinstance(listed, list):
                    self.error(doc.pos_of(("rules",)), "rules: expected a list of rules")
                    continue
                entries = [(v, ("rules", i)) for i, v in enumerate(listed)]
            elif not isinstance(value, dict):
                self.error(
                    doc.pos_of(()),
                    "a rule file holds one rule (a mapping with id, "
                    "title, dyad …) or a list of them under `rules:`",
                )
                continue
            for raw, loc in entries:
                if isinstance(raw, dict) and raw.get("kind") == "spike":
                    watch = self._validate(doc, raw, WatchSpec, loc)
                    if watch is not None:
                        self.watches.append(_Loaded(watch, doc, loc))
                    continue
                spec = self._validate(doc, raw, RuleSpec, loc)
                if spec is not None:
                    loaded.append(_Loaded(spec, doc, loc))
                elif isinstance(raw, dict):
                    self.unvalidated_rules.append((doc, loc, raw))
        return loaded

    def compile_watches(self, rules: list[_Loaded], context: _Context) -> tuple[Watch, ...]:
        """The enabled spike rules, each checked against the rules and actors it names."""
        known_rules = {r.spec.id for r in rules}
        compiled = []
        for loaded in self.watches:
            spec: WatchSpec = loaded.spec
            doc, loc = loaded.doc, loaded.loc
            prefix = validation.dotted(loc) + "." if loc else ""
            before = len(self.problems)
            if spec.watch.rule is not None and spec.watch.rule not in known_rules:
                self.error(
                    doc.pos_of((*loc, "watch", "rule")),
                    f"{prefix}watch.rule: unknown rule '{spec.watch.rule}'"
                    f"{close_match(spec.watch.rule, known_rules)}",
                )
            for i, actor in enumerate(spec.watch.dyad or ()):
                if actor not in context.known_actors:
                    self.error(
                        doc.pos_of((*loc, "watch", "dyad", i)),
                        f"{prefix}watch.dyad[{i}]: unknown actor '{actor}'"
                        f"{close_match(actor, context.known_actors)}",
                    )
            self._check_seed(spec.seed, doc.pos_of((*loc, "seed")), prefix, context)
            if len(self.problems) > before or not spec.enabled:
                continue
            examples = [
                doc.pos_of((*loc, "examples", key, i))
                for key, listed in (("spike", spec.examples.spike), ("calm", spec.examples.calm))
                for i in range(len(listed))
            ]
            notify = doc.pos_of((*loc, "notify")) if "notify" in spec.model_fields_set else None
            compiled.append(compile_watch(spec, doc.pos_of(loc), examples, notify))
        return tuple(compiled)

    def check_unique(self, kind: str, loaded: list[_Loaded]) -> None:
        first: dict[str, _Loaded] = {}
        for item in loaded:
            seen = first.setdefault(item.spec.id, item)
            if seen is not item:
                where = seen.doc.pos_of((*seen.loc, "id"))
                self.error(
                    item.doc.pos_of((*item.loc, "id")),
                    f"duplicate {kind} id '{item.spec.id}' (first defined at {where})",
                )

    def check_actors(self, actors: list[_Loaded]) -> None:
        known = {a.spec.id for a in actors} | self.partial_ids["actor"]
        for actor in actors:
            for i, member in enumerate(actor.spec.members):
                if member not in known:
                    self.error(
                        actor.doc.pos_of(("members", i)),
                        f"members[{i}]: unknown actor '{member}'{close_match(member, known)}",
                    )

    def check_unvalidated_conditions(self, context: _Context) -> None:
        """Report condition errors of rules that failed validation too: all errors at once."""
        for doc, loc, raw in self.unvalidated_rules:
            parser = ConditionParser(self.error, doc, context.known_actors, context.known_vocab)
            parser.parse(raw.get("evidence"), (*loc, "evidence"))
            parser.parse(raw.get("exclude"), (*loc, "exclude"))
            implies = raw.get("implies")
            for i, imp in enumerate(implies if isinstance(implies, list) else []):
                if isinstance(imp, dict) and "when" in imp:
                    parser.parse(imp["when"], (*loc, "implies", i, "when"))

    def compile_rule(self, loaded: _Loaded, context: _Context) -> Rule | None:
        spec: RuleSpec = loaded.spec
        doc, loc = loaded.doc, loaded.loc
        prefix = validation.dotted(loc) + "." if loc else ""
        before = len(self.problems)
        for role in ("a", "b"):
            actor = getattr(spec.dyad, role)
            if actor not in context.known_actors:
                self.error(
                    doc.pos_of((*loc, "dyad", role)),
                    f"{prefix}dyad.{role}: unknown actor '{actor}'"
                    f"{close_match(actor, context.known_actors)}",
                )
        self._check_seed(spec.seed, doc.pos_of((*loc, "seed")), prefix, context)
        parser = ConditionParser(self.error, doc, context.known_actors, context.known_vocab)
        evidence = parser.parse(spec.evidence, (*loc, "evidence"))
        exclude = parser.parse(spec.exclude, (*loc, "exclude"))
        implied = []
        for i, imp in enumerate(spec.implies):
            here = (*loc, "implies", i)
            if imp.actor not in context.known_actors:
                self.error(
                    doc.pos_of((*here, "actor")),
                    f"{prefix}implies[{i}].actor: unknown actor '{imp.actor}'"
                    f"{close_match(imp.actor, context.known_actors)}",
                )
            when = parser.parse(imp.when, (*here, "when"))
            if when is not None:
                implied.append(Implied(imp.actor, when))
        if len(self.problems) > before:
            return None
        conditions = (evidence, exclude, *(i.when for i in implied))
        used = {c.set_id for cond in conditions for c in vocab_refs(cond)}
        named = {spec.dyad.a, spec.dyad.b}
        named |= {c.actor for cond in conditions for c in actor_refs(cond)}
        named |= {m for n in list(named) if n in context.actors for m in context.actors[n].members}
        defs = [context.vocab[v].model_dump(mode="json") for v in sorted(used & set(context.vocab))]
        defs += [
            context.actors[a].model_dump(mode="json") for a in sorted(named & set(context.actors))
        ]
        return Rule(
            id=spec.id,
            title=spec.title,
            level=spec.level,
            tags=spec.tags,
            seed=spec.seed,
            a=spec.dyad.a,
            b=spec.dyad.b,
            direction="a->b" if spec.dyad.direction == "a->b" else "either",
            ignore_lists=spec.dyad.lists == "ignore",
            dyad_scope=spec.scope.dyad,
            evidence_scope=spec.scope.evidence,
            exclude_scope=spec.scope.exclude,
            evidence=evidence,
            exclude=exclude,
            implies=tuple(implied),
            notify=spec.notify,
            realert=spec.realert,
            version=_digest(spec.model_dump(mode="json"), defs),
            examples=tuple(_examples(spec, doc, loc)),
            pos=doc.pos_of(loc),
            notify_pos=doc.pos_of((*loc, "notify")) if "notify" in spec.model_fields_set else None,
        )

    def _check_seed(self, seed: str, pos: Pos, prefix: str, context: _Context) -> None:
        seed_file, _, claim = seed.partition("#")
        name = seed_file.rsplit("/", 1)[-1]
        if name not in context.claims:
            files = ", ".join(sorted(context.claims)) or "none"
            self.error(
                pos, f"{prefix}seed: no seed file '{name}' in {context.seeds_dir} (found: {files})"
            )
        elif claim not in context.claims[name]:
            self.error(
                pos,
                f"{prefix}seed: '{name}' has no claim '{claim}'"
                f"{close_match(claim, context.claims[name])}",
            )

    def warn_unused(
        self, vocab: list[_Loaded], compiled: list[Rule | None], rules: list[_Loaded]
    ) -> None:
        used = {
            c.set_id
            for r in compiled
            if r
            for cond in (r.evidence, r.exclude, *(i.when for i in r.implies))
            for c in vocab_refs(cond)
        }
        for v in vocab:
            if v.spec.id not in used:
                pos = v.doc.pos_of(("id",))
                self.warnings.append(
                    Problem(
                        pos,
                        f"vocabulary set '{v.spec.id}' is not used by any rule",
                        severity="warning",
                    )
                )
        for r in rules:
            if not (r.spec.examples.match or r.spec.examples.no_match):
                pos = r.doc.pos_of((*r.loc, "id"))
                self.warnings.append(
                    Problem(pos, f"rule '{r.spec.id}' has no examples", severity="warning")
                )

    def error(self, pos: Pos, message: str) -> None:
        self.problems.append(Problem(pos, message))

    def _read(self, path: Path) -> yamlpos.Located | None:
        try:
            return yamlpos.load_file(path)
        except InvalidFile as exc:
            self.problems += exc.problems
            return None

    def _validate(
        self, doc: yamlpos.Located, raw: Any, model: type[Spec], loc: yamlpos.Loc
    ) -> Spec | None:
        if not isinstance(raw, dict):
            self.error(doc.pos_of(loc), "expected a mapping of keys")
            return None
        spec, problems = validation.validate(model, raw, doc, loc)
        self.problems += problems
        return spec


def _yaml_files(folder: Path) -> list[Path]:
    """Every YAML file directly in `folder`: `.yaml` and `.yml` alike."""
    return sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")])


def _index(rules: tuple[Rule, ...], actors: Mapping[str, Actor]) -> dict[str, tuple[Rule, ...]]:
    index: dict[str, list[Rule]] = {}
    for rule in rules:
        names = {rule.a, rule.b}
        names |= {m for name in (rule.a, rule.b) if name in actors for m in actors[name].members}
        for name in names:
            index.setdefault(name, []).append(rule)
    return {name: tuple(found) for name, found in index.items()}


def _examples(spec: RuleSpec, doc: yamlpos.Located, loc: yamlpos.Loc) -> Iterator[Example]:
    for key, should in (("match", True), ("no_match", False)):
        for i, example in enumerate(getattr(spec.examples, key)):
            pos = doc.pos_of((*loc, "examples", key, i))
            yield Example(example.text, example.day, should, pos, example.lang, example.summary)


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


def _order(problem: Problem) -> tuple[str, int, int]:
    pos = problem.pos or Pos("", 0, 0)
    return (pos.path, pos.line, pos.col)
