"""The numbers behind the charts: matches per day for each rule and each dyad, with the
days that spike (monitor.spikes) marked. Pure apart from one store query."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from monitor import store
from monitor.engine.ruleset import Rule, RuleSet
from monitor.spikes import BASELINE_DAYS, Spike, detect_spikes

By = Literal["rule", "dyad"]


@dataclass(frozen=True, slots=True)
class Series:
    key: str  # rule id, or dyad such as RUS–PRK
    label: str
    counts: tuple[int, ...]  # one per day of the window, oldest first
    spikes: tuple[Spike, ...]  # indices into counts

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True, slots=True)
class Chart:
    days: tuple[date, ...]
    series: tuple[Series, ...]  # busiest first

    def as_json(self) -> dict[str, Any]:
        """What charts.js reads: x as Unix seconds (UTC midnights), one y list per series."""
        return {
            "days": [d.isoformat() for d in self.days],
            "t": [int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp()) for d in self.days],
            "series": [
                {
                    "key": s.key,
                    "label": s.label,
                    "total": s.total,
                    "counts": list(s.counts),
                    "spikes": [
                        {
                            "index": p.index,
                            "day": self.days[p.index].isoformat(),
                            "count": p.count,
                            "baseline": round(p.baseline, 2),
                            "p": p.p_value,
                        }
                        for p in s.spikes
                    ],
                }
                for s in self.series
            ],
        }


def dyad_of(rule: Rule) -> str:
    """A rule's pair of actors: A–B when either may act, A→B when the direction counts."""
    if rule.direction == "either":
        first, second = sorted((rule.a, rule.b))
        return f"{first}–{second}"
    return f"{rule.a}→{rule.b}"


def chart(
    db: store.Database,
    ruleset: RuleSet | None,
    today: date,
    days: int,
    by: By = "rule",
    only: Sequence[str] | None = None,
) -> Chart:
    """Matches per day over the `days` days up to `today`, per rule (or per dyad, summing
    the rules of each pair). Spikes are judged against the 28 days before each day, so the
    query reaches back that much further than the window."""
    first = today - timedelta(days=days - 1)
    reach = first - timedelta(days=BASELINE_DAYS)
    span = (today - reach).days + 1
    per_rule: dict[str, list[int]] = defaultdict(lambda: [0] * span)
    for row in store.daily_counts(db, reach, today):
        per_rule[row.rule][(row.day - reach).days] += row.count
    if ruleset is not None:
        for rule in ruleset.rules:
            per_rule.setdefault(rule.id, [0] * span)
    grouped = _group(per_rule, ruleset, by, span)
    wanted = set(only) if only else None
    series = []
    for key, (label, counts) in grouped.items():
        if wanted is not None and key not in wanted:
            continue
        offset = span - days
        spikes = tuple(
            Spike(s.index - offset, s.count, s.baseline, s.p_value)
            for s in detect_spikes(counts)
            if s.index >= offset
        )
        series.append(Series(key, label, tuple(counts[offset:]), spikes))
    series.sort(key=lambda s: (-s.total, s.key))
    return Chart(tuple(first + timedelta(days=i) for i in range(days)), tuple(series))


def recent_spikes(chart: Chart, last_days: int) -> list[tuple[Series, Spike, date]]:
    """The spikes of the last `last_days` days of `chart`, newest first."""
    since = len(chart.days) - last_days
    found = [
        (series, spike, chart.days[spike.index])
        for series in chart.series
        for spike in series.spikes
        if spike.index >= since
    ]
    return sorted(found, key=lambda f: (f[2], f[1].count), reverse=True)


def _group(
    per_rule: dict[str, list[int]], ruleset: RuleSet | None, by: By, span: int
) -> dict[str, tuple[str, list[int]]]:
    if by == "rule":
        return {
            rule_id: (_rule_label(rule_id, ruleset), counts) for rule_id, counts in per_rule.items()
        }
    grouped: dict[str, tuple[str, list[int]]] = {}
    for rule_id, counts in per_rule.items():
        rule = ruleset.get(rule_id) if ruleset else None
        if rule is None:
            continue  # a removed rule: its pair is no longer known
        key = dyad_of(rule)
        _, total = grouped.setdefault(key, (_dyad_label(key, rule, ruleset), [0] * span))
        _add(total, counts)
    return grouped


def _add(total: list[int], counts: Iterable[int]) -> None:
    for i, n in enumerate(counts):
        total[i] += n


def _rule_label(rule_id: str, ruleset: RuleSet | None) -> str:
    rule = ruleset.get(rule_id) if ruleset else None
    return f"{rule_id} ({dyad_of(rule)})" if rule else f"{rule_id} (removed)"


def _dyad_label(key: str, rule: Rule, ruleset: RuleSet | None) -> str:
    actors = ruleset.actors if ruleset else {}
    first, second = sorted((rule.a, rule.b)) if rule.direction == "either" else (rule.a, rule.b)
    names = [actors[x].name if x in actors else x for x in (first, second)]
    joiner = " – " if rule.direction == "either" else " → "
    return f"{key}: {joiner.join(names)}"
