"""The daemon checks its rules' inline examples in its reader processes, so that its own
process never holds the lemma dictionaries and the language model that only readers need,
and no process is started for them."""

import re
import shutil
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

from monitor.engine.loader import load_ruleset
from monitor.engine.match import verify_examples
from monitor.ingest.workers import ReadPool
from monitor.reading import examples_in
from tests.conftest import RULES_DIR

TODAY = date(2026, 12, 1)
REPO = Path(__file__).resolve().parent.parent


def test_the_examples_apart_find_what_they_find_here(tmp_path: Path) -> None:
    # Given rules with an example that does not behave as its rule says
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    rule = rules / "rules.yaml"
    wrong = r"\1no_match:\n\1  - Alphaland ships artillery shells to Betania\n"
    rule.write_text(re.sub(r"(?m)^( *)no_match:\n", wrong, rule.read_text(), count=1))
    ruleset = load_ruleset(rules, rules / "seeds")

    with ReadPool(2) as readers:
        apart = examples_in(readers, rules, rules / "seeds")(ruleset, TODAY)

    assert apart == verify_examples(ruleset, TODAY) != []
    assert any("artillery shells" in str(problem) for problem in apart)


def test_the_daemons_process_never_opens_the_dictionaries() -> None:
    # A fresh interpreter, as `monitor run` is: load the repository's rules (examples in six
    # lemmatised languages) with the examples checked apart, then look at what it holds
    script = textwrap.dedent(
        f"""
        from datetime import date
        from pathlib import Path
        from monitor.engine import langmodel, lemma
        from monitor.engine.rulebook import RuleBook
        from monitor.ingest.workers import ReadPool
        from monitor.reading import examples_in
        rules, seeds = Path({str(REPO / "rules")!r}), Path({str(REPO / "seeds")!r})
        with ReadPool(2) as readers:
            apart = examples_in(readers, rules, seeds)
            book = RuleBook(rules, seeds, lambda: date(2026, 12, 1), examples=apart)
        print(len(book.current.rules), lemma._lemmatizer.cache_info().currsize,
              len(langmodel._identifiers))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split()

    rules, lemmatizers, language_models = map(int, out)
    assert rules >= 3 and lemmatizers == 0 and language_models == 0


def test_once_the_readers_are_stopped_a_rule_set_is_refused_unchecked(tmp_path: Path) -> None:
    # a reload that comes as the daemon stops must not open the dictionaries in its process
    ruleset = load_ruleset(RULES_DIR, RULES_DIR / "seeds")
    readers = ReadPool(1)
    readers.close()

    problems = examples_in(readers, RULES_DIR, RULES_DIR / "seeds")(ruleset, TODAY)

    assert [str(p) for p in problems] == [
        "error: inline examples not checked: the readers were stopped"
    ]
