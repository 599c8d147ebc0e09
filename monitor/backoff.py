"""Exponential backoff, shared by failing feeds and failing alert deliveries."""

from datetime import timedelta

_MAX_DOUBLINGS = 20  # 2**20 times the first wait is far past any cap; keeps the maths small


def backoff(first: timedelta, attempt: int, cap: timedelta) -> timedelta:
    """How long to wait after failed attempt number `attempt` (1 for the first failure):
    `first`, doubled for every failure after the first, never above `cap`."""
    doublings = min(max(attempt - 1, 0), _MAX_DOUBLINGS)
    return min(first * (1 << doublings), cap)
