"""Spike detection on daily series: a known spike is found, a flat or noisy series is not."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.spikes import detect_spikes, judge, poisson_tail

# Two months of a rule that fires one to three times a day, then a day of 14.
NOISY = [1, 2, 1, 3, 0, 2, 1, 1, 2, 3, 1, 0, 2, 1, 2, 1, 3, 2, 1, 0, 1, 2, 2, 1, 3, 1, 2, 1] * 2
SPIKED = [*NOISY, 14, 2, 1]


def test_a_known_spike_is_found_with_its_baseline() -> None:
    spikes = detect_spikes(SPIKED)

    assert [s.index for s in spikes] == [len(NOISY)]
    [spike] = spikes
    assert spike.count == 14
    assert spike.baseline == pytest.approx((sum(NOISY[-28:]) + 1) / 29)
    assert spike.p_value < 1e-3 and spike.ratio > 5


def test_a_flat_series_has_no_spike() -> None:
    assert detect_spikes([5] * 90) == []


def test_a_noisy_series_without_a_spike_has_none() -> None:
    assert detect_spikes(NOISY * 2) == []


def test_a_rise_from_nothing_needs_the_minimum_count() -> None:
    quiet = [0] * 28

    assert judge(2, quiet) is None  # below min_count (3)
    spike = judge(3, quiet)
    assert spike is not None and spike.count == 3


def test_a_day_with_too_little_history_is_not_judged() -> None:
    assert judge(50, [0, 0, 0]) is None
    assert judge(50, [0] * 7) is not None


def test_only_the_last_28_days_are_the_baseline() -> None:
    # a busy period long ago does not hide today's spike
    history = [30] * 60 + [1] * 28

    assert judge(12, history) is not None
    assert judge(12, [30] * 28) is None


def test_the_poisson_tail_matches_a_direct_sum() -> None:
    for k, rate in ((0, 2.0), (1, 0.5), (3, 3.0), (10, 2.0), (40, 1.5), (5, 20.0)):
        direct = 1 - sum(math.exp(-rate) * rate**i / math.factorial(i) for i in range(k))
        assert poisson_tail(k, rate) == pytest.approx(direct, rel=1e-9, abs=1e-15)


def test_the_far_tail_stays_positive_where_one_minus_the_cdf_would_be_zero() -> None:
    tail = poisson_tail(60, 1.0)

    assert 0 < tail < 1e-80


@given(st.lists(st.integers(min_value=0, max_value=50), min_size=0, max_size=120))
def test_spikes_are_days_of_the_series_at_least_the_minimum(series: list[int]) -> None:
    for spike in detect_spikes(series):
        assert series[spike.index] == spike.count >= 3
        assert spike.index >= 7
        assert spike.count > spike.baseline
