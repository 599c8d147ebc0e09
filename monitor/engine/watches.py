"""Spike rules (`kind: spike`): a rule that watches a series — one rule's matches per day, or
a dyad's (every rule between two actors) — and alerts when today is far above its baseline.

This module owns compiling them into `Watch` values (their file shape is
`schema.WatchSpec`) and checking their inline examples (daily counts, oldest first, today
last). Whether a day is a spike is
monitor.spikes' Poisson test; counting matches per day and alerting is the daemon's.

    id: ru-dprk-surge
    kind: spike
    title: Surge of Russia–North Korea military signals
    seed: seeds/ankasam-2023-09-russia-dprk.yaml#ru-dprk-military-ties
    level: high
    watch: {dyad: [RUS, PRK]}        # or {rule: ru-dprk-arms}
    baseline: 28                     # days before today that make the baseline
    min_count: 3                     # fewer matches today never alert
    alpha: 0.001                     # how unlikely today must be under the baseline
    examples:
      spike: ["0 1 0 0 1 0 0 1 0 0 9"]
      calm: ["2 3 2 4 3 2 3 3 2 4 3"]
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from monitor.engine.schema import WatchSpec
from monitor.errors import Pos, Problem
from monitor.model import Level
from monitor.spikes import Spike, judge


@dataclass(frozen=True, slots=True)
class Watch:
    """A compiled spike rule."""

    id: str
    title: str
    level: Level
    tags: tuple[str, ...]
    seed: str
    rule: str | None  # the rule whose daily matches are watched …
    dyad: tuple[str, str] | None  # … or the two actors whose rules' matches are summed
    baseline: int
    min_count: int
    alpha: float
    min_history: int
    notify: tuple[str, ...]
    examples: tuple[tuple[tuple[int, ...], bool, Pos], ...] = ()
    pos: Pos | None = None
    notify_pos: Pos | None = None

    @property
    def watched(self) -> str:
        """What it watches, for messages: a rule id or a dyad such as RUS–PRK."""
        return self.rule if self.rule is not None else "–".join(self.dyad or ())

    def spike(self, today: int, history: Sequence[int]) -> Spike | None:
        """The spike `today`'s count is against `history` (oldest first), or None."""
        return judge(
            today,
            history,
            baseline=self.baseline,
            min_count=self.min_count,
            alpha=self.alpha,
            min_history=self.min_history,
        )


def compile_watch(
    spec: WatchSpec, pos: Pos, example_pos: Sequence[Pos], notify_pos: Pos | None
) -> Watch:
    """The `Watch` of a validated spec; `example_pos` gives each example's place (spike
    examples first, then calm ones)."""
    series = [(s, True) for s in spec.examples.spike] + [(s, False) for s in spec.examples.calm]
    return Watch(
        id=spec.id,
        title=spec.title,
        level=spec.level,
        tags=spec.tags,
        seed=spec.seed,
        rule=spec.watch.rule,
        dyad=spec.watch.dyad,
        baseline=spec.baseline,
        min_count=spec.min_count,
        alpha=spec.alpha,
        min_history=spec.min_history,
        notify=spec.notify,
        examples=tuple(
            (tuple(int(n) for n in text.split()), should, where)
            for (text, should), where in zip(series, example_pos, strict=True)
        ),
        pos=pos,
        notify_pos=notify_pos,
    )


def verify_watch_examples(watches: Sequence[Watch]) -> Iterator[Problem]:
    """A problem for each example series whose last day does not behave as it says."""
    for watch in watches:
        for counts, should, where in watch.examples:
            fired = watch.spike(counts[-1], counts[:-1]) is not None
            if fired != should:
                expected = "spike" if should else "stay calm"
                yield Problem(
                    where,
                    f"example should {expected} for {watch.id} but does not: "
                    f"{' '.join(map(str, counts))}",
                )
