"""Field types that monitor.yaml and rule files share: durations, sizes, time zones and
clock times, each validated with a message that says how to write it."""

import re
from datetime import timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BeforeValidator, Field

from monitor.durations import parse_duration

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    None: 1,
}


def _duration(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # a bare number once meant seconds, silently: "interval: 15" polled every 15 s
        raise ValueError(f"{value} has no unit: write it as e.g. {value}s or {value}m")
    if isinstance(value, str):
        return parse_duration(value)
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be a positive duration")
    return value


def _size(value: Any) -> Any:
    if isinstance(value, str):
        found = _SIZE.match(value)
        if not found:
            raise ValueError(f"'{value}' is not a size (use e.g. 512KB, 10MB)")
        unit = found[2].lower() if found[2] else None
        return int(float(found[1]) * _SIZE_UNITS[unit])
    return value


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{name}' is not a time zone (use e.g. UTC, Europe/Berlin)") from None
    return name


Duration = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_positive)]
Size = Annotated[int, BeforeValidator(_size), Field(gt=0)]
TimeZone = Annotated[str, AfterValidator(_zone)]
# HH:MM, or HH:MM:SS where a window must be exact to the second
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")]
