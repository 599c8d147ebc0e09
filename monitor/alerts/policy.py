"""Suppression policy: whether a due delivery goes out now, waits, or is closed unsent.
Pure functions of the delivery, its rule, the silences and the clock; the sender gathers
their inputs and records the verdict."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from monitor.engine.ruleset import Rule
from monitor.model import Alert, Notice
from monitor.settings import QuietHours, TargetConfig
from monitor.store import Silence


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a delivery does not go out now: closed (`silenced`, `suppressed`) or held
    (`pending` until `until`)."""

    status: str
    reason: str
    until: datetime | None = None


def realert_since(rule: Rule | None, now: datetime) -> datetime | None:
    """From when an earlier alert of `rule` keeps it quiet, or None when it has no window."""
    return now - rule.realert if rule is not None and rule.realert is not None else None


def judge(
    message: Alert | Notice,
    rule: Rule | None,
    target: TargetConfig | None,
    silences: Sequence[Silence],
    now: datetime,
    *,
    sent_recently: bool,
) -> Verdict | None:
    """None when `message` may go out now. `sent_recently`: its rule alerted this target
    within the rule's re-alert window (see `realert_since`). Silences are about rules, so
    they never hold a notice; quiet hours hold both."""
    silence = None
    if isinstance(message, Alert):
        silence = next((s for s in silences if s.rule in (None, message.rule)), None)
    if silence is not None:
        return Verdict(
            "silenced", f"silenced until {silence.until:%Y-%m-%d %H:%M}Z: {silence.reason}"
        )
    if sent_recently and rule is not None:
        return Verdict("suppressed", f"within {rule.id}'s re-alert window ({rule.realert})")
    if target is not None and target.quiet_hours is not None:
        end = quiet_until(target.quiet_hours, now)
        if end is not None:
            return Verdict("pending", f"held for quiet hours until {end:%Y-%m-%d %H:%M}Z", end)
    return None


def quiet_until(quiet: QuietHours, now: datetime) -> datetime | None:
    """When the quiet hours around `now` end (aware UTC), or None outside them.
    Hours may wrap midnight (22:00–07:00)."""
    zone = ZoneInfo(quiet.timezone)
    local = now.astimezone(zone)
    start, end = time.fromisoformat(quiet.start), time.fromisoformat(quiet.end)
    clock = local.time().replace(tzinfo=None)
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    ending = datetime.combine(local.date(), end, tzinfo=zone)
    if ending <= local:
        ending += timedelta(days=1)
    return ending.astimezone(now.tzinfo)
