"""Spike rules (`kind: spike`): loading and their errors, inline examples, and the notice the
daemon queues through the outbox when a rule's or a dyad's matches jump, once a day."""

import asyncio
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor import store, upkeep
from monitor.alerts.stories import StoryFiling
from monitor.app import open_app
from monitor.engine.loader import load_ruleset
from monitor.engine.match import verify_examples
from monitor.engine.rulebook import RuleBook
from monitor.errors import RuleError
from monitor.model import Evidence, Item, Match, Notice, PollResult
from monitor.settings import FeedConfig, Settings, TargetConfig, WebSettings
from monitor.store import Database
from tests.conftest import RULES_DIR

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)

SPIKE = """\
  - id: alp-bet-surge
    kind: spike
    title: Surge of Alphaland–Betania signals
    seed: seeds/fixture.yaml#arms
    level: high
    watch: {{{watch}}}
    min_count: 4
    min_history: 5
    notify: [{notify}]
    examples:
      spike: ["0 1 0 0 1 0 0 8"]
      calm: ["{calm}"]
"""


def rules_with_spike(
    tmp_path: Path, watch: str = "rule: alp-bet-arms", notify: str = "desk", calm: str = "0 0 1"
) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    path = rules / "rules.yaml"
    spike = SPIKE.format(watch=watch, notify=notify, calm=calm)
    path.write_text(path.read_text(encoding="utf-8") + spike, encoding="utf-8")
    return rules


def test_a_spike_rule_loads_next_to_the_match_rules(tmp_path: Path) -> None:
    ruleset = load_ruleset(
        rules_with_spike(tmp_path, watch="dyad: [ALP, BET]"), RULES_DIR / "seeds"
    )

    [watch] = ruleset.watches
    assert (watch.id, watch.dyad, watch.rule, watch.min_count) == (
        "alp-bet-surge",
        ("ALP", "BET"),
        None,
        4,
    )
    assert ruleset.get("alp-bet-surge") is None  # it matches no item itself
    assert verify_examples(ruleset, NOW.date()) == []


def test_a_spike_rule_naming_an_unknown_rule_or_actor_says_where(tmp_path: Path) -> None:
    rules = rules_with_spike(tmp_path, watch="rule: alp-bet-armz")

    with pytest.raises(RuleError) as caught:
        load_ruleset(rules, RULES_DIR / "seeds")

    [problem] = caught.value.problems
    assert str(problem).endswith(
        "error: rules[2].watch.rule: unknown rule 'alp-bet-armz' (did you mean 'alp-bet-arms'?)"
    )
    assert problem.pos is not None and problem.pos.path.endswith("rules.yaml")


def test_a_failing_spike_example_is_reported_at_its_line(tmp_path: Path) -> None:
    rules = rules_with_spike(tmp_path, calm="0 0 0 0 0 0 0 9")

    with pytest.raises(RuleError) as caught:
        RuleBook(rules, RULES_DIR / "seeds", lambda: NOW.date())

    [problem] = caught.value.problems
    assert "example should stay calm for alp-bet-surge" in str(problem)


def _history(db: Database, per_day: list[int]) -> None:
    """Matches of alp-bet-arms, `per_day[i]` of them `len - 1 - i` days before NOW."""
    feed = FeedConfig(name="wire", url="http://wire.example/x", interval=timedelta(hours=1))
    store.sync_feeds(db, [feed], NOW)
    for age, count in enumerate(reversed(per_day)):
        at = NOW - timedelta(days=age, hours=1)
        [state] = store.claim_due_feeds(db, "me", at, timedelta(minutes=5), 1, ["wire"])
        items = tuple(_item(f"d{age}-{n}", at) for n in range(count))
        evidence = (Evidence("actor", "ALP", "Alphaland", 0, 9, "name"),)
        matches = tuple(
            Match("alp-bet-arms", "v", "high", 0.9, i.key, "s", evidence, (), "Arms") for i in items
        )
        result = PollResult(state.id, at, at, "ok", at, items=items, matches=matches)
        store.save_poll(db, result, "me", StoryFiling())


def _item(key: str, at: datetime) -> Item:
    return Item(key, key, None, f"Report {key}", "", None, at, "feed", "en")


def test_a_spike_today_queues_one_notice_per_day_with_the_numbers(
    db: Database, tmp_path: Path
) -> None:
    # Given a week of one match a day or none, and eight matches today
    _history(db, [1, 0, 1, 0, 0, 1, 0, 8])
    rules = RuleBook(rules_with_spike(tmp_path), RULES_DIR / "seeds", lambda: NOW.date())
    settings = Settings(
        targets=(TargetConfig(name="desk", urls=("json://127.0.0.1:9/",)),),
        web=WebSettings(base_url="https://desk.example.org"),
    )

    async def check_twice() -> tuple[int, int]:
        async with open_app(settings, db=db, clock=lambda: NOW, rules=rules) as app:
            return await upkeep.check_spikes(app), await upkeep.check_spikes(app)

    # When the daemon checks, twice the same day
    first, second = asyncio.run(check_twice())

    # Then one notice went to the outbox, with the series in it
    assert (first, second) == (1, 0)
    [due] = store.claim_due_deliveries(db, "me", NOW, timedelta(minutes=2), 5)
    notice = due.alert
    assert isinstance(notice, Notice)
    assert (notice.kind, notice.level, notice.title) == ("spike", "high", "spike in alp-bet-arms")
    assert notice.lines[0].startswith("8 matches of alp-bet-arms today (UTC)")
    assert notice.lines[1] == "Matches per day, last 14 days: 0 0 0 0 0 0 1 0 1 0 0 1 0 8"
    assert notice.link == "https://desk.example.org/rules"


def test_an_ordinary_day_queues_nothing(db: Database, tmp_path: Path) -> None:
    _history(db, [2, 3, 2, 3, 2, 3, 2, 3])
    rules = RuleBook(rules_with_spike(tmp_path), RULES_DIR / "seeds", lambda: NOW.date())
    settings = Settings(targets=(TargetConfig(name="desk", urls=("json://127.0.0.1:9/",)),))

    async def check() -> int:
        async with open_app(settings, db=db, clock=lambda: NOW, rules=rules) as app:
            return await upkeep.check_spikes(app)

    assert asyncio.run(check()) == 0
    assert store.list_deliveries(db, 5) == []
