"""How many readers a daemon starts when the config leaves it to the machine."""

import os

import pytest

from monitor.ingest import workers


@pytest.mark.parametrize(("allowed", "readers"), [(1, 1), (2, 1), (4, 3), (16, 15)])
def test_the_default_is_one_reader_per_allowed_cpu_but_the_daemons_own(
    monkeypatch: pytest.MonkeyPatch, allowed: int, readers: int
) -> None:
    monkeypatch.setattr(os, "sched_getaffinity", lambda _pid: set(range(allowed)))

    assert workers.default_processes() == readers


def test_a_pool_started_with_no_number_has_the_default() -> None:
    with workers.ReadPool() as pool:
        assert pool.processes == workers.default_processes()
