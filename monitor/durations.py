"""Durations as people write them (`90s`, `15m`, `2h`, `1d`, `1500ms`): the one parser that
monitor.yaml, rule files and the command line share. A unit is required: a bare number is
ambiguous (seconds? minutes?) and refused."""

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
EXAMPLES = "90s, 15m, 2h, 1d"


def parse_duration(text: str) -> timedelta:
    """The duration `text` stands for.

    Raises:
        ValueError: `text` is not a number with a unit (the message says how to write one).
    """
    found = _DURATION.match(text)
    if not found:
        if text.strip().replace(".", "", 1).isdigit():
            raise ValueError(f"'{text}' has no unit (use e.g. {text.strip()}s or {text.strip()}m)")
        raise ValueError(f"'{text}' is not a duration (use e.g. {EXAMPLES})")
    return timedelta(seconds=float(found[1]) * _UNITS[found[2]])
