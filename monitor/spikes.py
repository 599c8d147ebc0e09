"""Spike detection on a daily series (a rule's or a dyad's matches per day): is a day far
above its baseline? Pure: numbers in, verdicts out.

A day is a spike when its count is at least `min_count` and, under a Poisson model whose
rate is the mean of the `baseline` days before it (with one pseudo-count, so a silent
baseline is not a rate of zero), a count this high or higher is less likely than `alpha`.
Days with fewer than `min_history` days before them are never judged.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

BASELINE_DAYS = 28
MIN_COUNT = 3
ALPHA = 0.001
MIN_HISTORY = 7


@dataclass(frozen=True, slots=True)
class Spike:
    """A day far above its baseline."""

    index: int  # position of the day in the series
    count: int
    baseline: float  # the expected count per day (the baseline's rate)
    p_value: float  # P(count or more | baseline), Poisson

    @property
    def ratio(self) -> float:
        """How many times the baseline the day was."""
        return self.count / self.baseline


def poisson_tail(k: int, rate: float) -> float:
    """P(X >= k) for X ~ Poisson(rate), accurate in the far tail (no 1 - cdf cancellation)."""
    if k <= 0:
        return 1.0
    if rate <= 0:
        return 0.0
    if k <= rate:  # the bulk: the lower sum is short and the tail is not small
        term = math.exp(-rate)
        below = term
        for i in range(1, k):
            term *= rate / i
            below += term
        return max(0.0, min(1.0, 1.0 - below))
    term = math.exp(-rate + k * math.log(rate) - math.lgamma(k + 1))
    total, i = term, k
    while term > total * 1e-16:
        i += 1
        term *= rate / i
        total += term
    return min(1.0, total)


def judge(
    count: int,
    history: Sequence[int],
    *,
    baseline: int = BASELINE_DAYS,
    min_count: int = MIN_COUNT,
    alpha: float = ALPHA,
    min_history: int = MIN_HISTORY,
    index: int = 0,
) -> Spike | None:
    """The spike `count` is against the last `baseline` days of `history`, or None."""
    window = list(history[-baseline:]) if baseline > 0 else []
    if len(window) < min_history or count < min_count:
        return None
    rate = (sum(window) + 1) / (len(window) + 1)
    p = poisson_tail(count, rate)
    if p >= alpha:
        return None
    return Spike(index=index, count=count, baseline=rate, p_value=p)


def detect_spikes(
    series: Sequence[int],
    *,
    baseline: int = BASELINE_DAYS,
    min_count: int = MIN_COUNT,
    alpha: float = ALPHA,
    min_history: int = MIN_HISTORY,
) -> list[Spike]:
    """Every day of `series` (oldest first) that is a spike against the days before it."""
    found = []
    for i, count in enumerate(series):
        spike = judge(
            count,
            series[max(0, i - baseline) : i],
            baseline=baseline,
            min_count=min_count,
            alpha=alpha,
            min_history=min_history,
            index=i,
        )
        if spike is not None:
            found.append(spike)
    return found
