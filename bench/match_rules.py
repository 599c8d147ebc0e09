"""Benchmark matching: 10,000 items against the seed rules and 10, 100 and 1,000 generated
rules, next to a naive loop (each rule's regexes run on each item) in the same run.

monitor compiles every alias and vocabulary term into one Aho–Corasick automaton, scans each
item once and evaluates only the rules whose actors were found. The naive loop compiles, per
rule, one word-boundary regex per actor and per vocabulary set (plain `re`) and runs them all
on every item.

The seed rules are also timed on items in each lemmatised language (pl, de, uk, ru, fr, es),
with the language given (as a feed would) and detected; before them, the first use of the
rule set (its inline examples: the six dictionaries and the language model are opened) with
the process's memory, and the two steps monitor does its own way, each next to the library's
or the obvious way in the same run: opening the six dictionaries (simplemma's own reader
decodes every record in Python) and case folding (a character at a time).

    .venv/bin/python bench/match_rules.py [--items 10000]
"""

import argparse
import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.engine import lexicon  # noqa: E402
from monitor.engine.loader import load_ruleset  # noqa: E402
from monitor.engine.match import match_item, verify_examples  # noqa: E402
from monitor.engine.ruleset import RuleSet  # noqa: E402
from monitor.model import Item  # noqa: E402

FILLER = (
    "the of and to in a said on for with that was as by at from officials talks week new "
    "government report minister city market economy plan people country region year group "
    "security council agency press statement border trade talks visit meeting leaders"
).split()
SYLLABLES = "ka lo mi ne ru sa ta vo zu ri pe no da fi gu".split()
# Inflected news words for the lemmatised rows; like FILLER, no state is named, so the rows
# time the scan (lemmas, detection), not rule evaluation.
FILLER_LEMMA = {
    "pl": "w i na z się że do nie to jest rząd ministra rozmowy spotkaniu kraju władze według "
    "sprawie granicy bezpieczeństwa wojska prezydenta rokiem".split(),
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein Regierung "
    "Ministers Gespräche Treffen Landes Behörden Grenze Sicherheit".split(),
    "uk": "і в на з що не до це є уряд міністра переговори зустрічі країни влади за "
    "кордону безпеки військ президента".split(),
    "ru": "и в на с что не по это о к правительство министра переговоры встречи страны "
    "властей границы безопасности войск президента заявил".split(),
    "fr": "le la les de des du et en un une pour dans sur gouvernement ministre "
    "négociations rencontre pays autorités frontière sécurité troupes président".split(),
    "es": "el la los las de del y en un una para por con gobierno ministro negociaciones "
    "reunión país autoridades frontera seguridad tropas presidente".split(),
}


def invented_name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize() + "ia"


def generated_rules(folder: Path, count: int, rng: random.Random) -> list[dict[str, object]]:
    """`count` rules over 2*count invented states, each with its own 12-word vocabulary."""
    (folder / "actors").mkdir(parents=True)
    (folder / "vocab").mkdir()
    (folder / "seeds").mkdir()
    rules: list[dict[str, object]] = []
    claims = []
    for i in range(count):
        names = []
        for side in "ab":
            actor = f"X{i}{side.upper()}"
            name = invented_name(rng)
            names.append(name)
            spec = {
                "id": actor,
                "name": name,
                "names": {"en": [name, f"{name}n*"], "ru": [name.lower() + "ия"]},
            }
            (folder / "actors" / f"{actor.lower()}.yaml").write_text(yaml.safe_dump(spec))
        words = [invented_name(rng).lower()[:-2] + "ex" for _ in range(12)]
        vocab = {"id": f"V{i}", "terms": {"en": [f"{w}*" for w in words]}}
        (folder / "vocab" / f"v{i}.yaml").write_text(yaml.safe_dump(vocab))
        claims.append({"id": f"c{i}", "text": "generated"})
        rules.append(
            {
                "id": f"gen-{i}",
                "title": f"generated {i}",
                "level": "low",
                "seed": f"seeds/gen.yaml#c{i}",
                "dyad": {"a": f"X{i}A", "b": f"X{i}B"},
                "scope": {"dyad": "sentence", "evidence": "item"},
                "evidence": f"V{i}",
                "names": names,
                "words": words,  # kept for the naive loop, removed below
            }
        )
    seed = {"id": "gen", "title": "generated", "publisher": "bench", "claims": claims}
    (folder / "seeds" / "gen.yaml").write_text(yaml.safe_dump(seed))
    clean = [{k: v for k, v in r.items() if k not in ("names", "words")} for r in rules]
    (folder / "rules.yaml").write_text(yaml.safe_dump({"rules": clean}, allow_unicode=True))
    return rules


def news_item(number: int, text: str, language: str | None) -> Item:
    """An item whose title is the first 80 characters of `text` and summary the rest."""
    return Item(
        key=str(number),
        guid=None,
        link=None,
        title=text[:80],
        summary=text[80:],
        author=None,
        published_at=datetime.now(UTC),
        date_source="feed",
        language=language,
    )


def make_lemma_items(
    count: int, rng: random.Random, detect: bool, languages: list[str] | None = None
) -> list[Item]:
    """News-like items in the lemmatised languages (all, or `languages`, in turn); the
    language is given (as a feed would) or, with `detect`, left for the engine to find."""
    items = []
    languages = languages or sorted(FILLER_LEMMA)
    for i in range(count):
        language = languages[i % len(languages)]
        text = " ".join(rng.choice(FILLER_LEMMA[language]) for _ in range(110))
        items.append(news_item(i, text, None if detect else language))
    return items


def make_items(count: int, rules: list[dict[str, object]], rng: random.Random) -> list[Item]:
    """News-like items; about one in five names a rule's pair, one in ten also its words."""
    items = []
    for i in range(count):
        words = [rng.choice(FILLER) for _ in range(120)]
        if rules and i % 5 == 0:
            rule = rng.choice(rules)
            names, vocab = rule["names"], rule["words"]
            assert isinstance(names, list) and isinstance(vocab, list)
            words[3], words[9] = names[0], names[1]
            if i % 10 == 0:
                words[14] = vocab[0] + "es"
        items.append(news_item(i, " ".join(words), "en"))
    return items


def time_monitor(ruleset: RuleSet, items: list[Item]) -> tuple[float, int]:
    began = time.perf_counter()
    fired = sum(len(match_item(ruleset, item)[0]) for item in items)
    return time.perf_counter() - began, fired


def time_naive(rules: list[dict[str, object]], items: list[Item]) -> tuple[float, int]:
    compiled = []
    for rule in rules:
        names, words = rule["names"], rule["words"]
        assert isinstance(names, list) and isinstance(words, list)
        compiled.append(
            (
                re.compile(rf"\b{re.escape(names[0])}\w*\b", re.I),
                re.compile(rf"\b{re.escape(names[1])}\w*\b", re.I),
                re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\w*", re.I),
            )
        )
    began = time.perf_counter()
    fired = 0
    for item in items:
        text = f"{item.title}\n{item.summary}"
        for a, b, evidence in compiled:
            if a.search(text) and b.search(text) and evidence.search(text):
                fired += 1
    return time.perf_counter() - began, fired


def rss_mb() -> float:
    """This process's resident memory now (Linux; 0 elsewhere)."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return 0.0
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def time_dictionaries() -> tuple[float, float]:
    """Opening the six dictionaries: monitor's index, then simplemma's own reader."""
    from simplemma.strategies.dictionaries.stream_dictionary_factory import StreamMap

    from monitor.engine import lemma

    began = time.perf_counter()
    for language in LEMMATISED:
        lemma._Dictionaries()._get_dictionary_uncached(language)
    ours = time.perf_counter() - began
    began = time.perf_counter()
    for language in LEMMATISED:
        StreamMap(language)
    return ours, time.perf_counter() - began


def time_folding(texts: list[str]) -> tuple[float, float]:
    """Folding item texts with offsets: monitor's, then one character at a time."""
    began = time.perf_counter()
    for text in texts:
        lexicon._fold_with_offsets(text)
    ours = time.perf_counter() - began
    began = time.perf_counter()
    for text in texts:
        pieces = [lexicon._fold_char(ch) for ch in text]
        "".join(pieces)
        [at for at, piece in enumerate(pieces) for _ in piece]
    return ours, time.perf_counter() - began


LEMMATISED = ["pl", "de", "uk", "ru", "fr", "es"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args()
    rng = random.Random(7)
    print(f"{args.items} items of ~800 characters, one process, 2-core machine\n")
    seed_items = make_items(args.items, [], rng)
    before = rss_mb()
    began = time.perf_counter()
    seed_rules = load_ruleset(ROOT / "rules", ROOT / "seeds")
    build = time.perf_counter() - began
    built = rss_mb()
    began = time.perf_counter()
    problems = verify_examples(seed_rules, datetime.now(UTC).date())
    examples = time.perf_counter() - began
    assert not problems, problems
    print(
        f"seed rules: build {build * 1000:.0f} ms, inline examples {examples * 1000:.0f} ms"
        f" (opens the dictionaries and the language model); RSS {before:.0f} MB before,"
        f" {built:.0f} MB built, {rss_mb():.0f} MB after the examples\n"
    )
    print("| step | monitor | naive | |")
    print("|---|---|---|---|")
    ours, theirs = time_dictionaries()
    print(
        f"| open the 6 dictionaries | {ours:.2f} s | {theirs:.2f} s (simplemma's reader)"
        f" | {theirs / ours:.1f}x |"
    )
    texts = [f"{i.title}\n{i.summary}" for i in make_lemma_items(3000, rng, detect=False)]
    ours, theirs = time_folding(texts)
    print(
        f"| fold 3,000 texts with offsets | {ours * 1000:.0f} ms | {theirs * 1000:.0f} ms"
        f" (a character at a time) | {theirs / ours:.1f}x |\n"
    )
    print(
        "| rules | monitor: build | monitor: match | items/s | naive loop | items/s |"
        " matches (monitor / naive) |"
    )
    print("|---|---|---|---|---|---|---|")
    took, fired = time_monitor(seed_rules, seed_items)
    print(
        f"| seed ({len(seed_rules.rules)}), en | {build * 1000:.0f} ms | {took:.2f} s |"
        f" {args.items / took:,.0f} | – | – | {fired} / – |"
    )
    for language in LEMMATISED:
        for detect in (False, True):
            items = make_lemma_items(args.items, rng, detect, [language])
            took, fired = time_monitor(seed_rules, items)
            label = "detected" if detect else "given"
            print(
                f"| seed, {language} ({label}) | | {took:.2f} s |"
                f" {args.items / took:,.0f} | – | – | {fired} / – |"
            )
    base = 0.0
    for count in (10, 100, 1000):
        with tempfile.TemporaryDirectory() as tmp:
            specs = generated_rules(Path(tmp) / "rules", count, rng)
            began = time.perf_counter()
            ruleset = load_ruleset(Path(tmp) / "rules", Path(tmp) / "rules" / "seeds")
            build = time.perf_counter() - began
        items = make_items(args.items, specs, rng)
        took, fired = time_monitor(ruleset, items)
        naive, naive_fired = time_naive(specs, items)
        base = base or took
        print(
            f"| {count} | {build * 1000:.0f} ms | {took:.2f} s | {args.items / took:,.0f} |"
            f" {naive:.2f} s | {args.items / naive:,.0f} | {fired} / {naive_fired} |"
        )
    print(
        f"\nmonitor's cost from 10 to 1,000 rules grew {took / base:.2f}x"
        " (the naive loop grows with the number of rules)"
    )


if __name__ == "__main__":
    main()
