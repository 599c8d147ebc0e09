"""Settings: monitor.yaml plus MONITOR_* environment variables, validated once, then frozen.

The only module that reads the environment. Everything else receives a `Settings`.
"""

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor import validation, yamlpos
from monitor.durations import parse_duration
from monitor.errors import ConfigError, InvalidFile, Problem
from monitor.model import Level

ENV_PREFIX = "MONITOR_"
ENV_CONFIG = "MONITOR_CONFIG"
DEFAULT_CONFIG = Path("monitor.yaml")

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
        return timedelta(seconds=value)
    if isinstance(value, str):
        return parse_duration(value)
    return value


def _size(value: Any) -> Any:
    if isinstance(value, str):
        found = _SIZE.match(value)
        if not found:
            raise ValueError(f"'{value}' is not a size (use e.g. 512KB, 10MB)")
        unit = found[2].lower() if found[2] else None
        return int(float(found[1]) * _SIZE_UNITS[unit])
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be a positive duration")
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration), AfterValidator(_positive)]
Size = Annotated[int, BeforeValidator(_size), Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LogSettings(_Strict):
    format: Literal["text", "json"] = "text"
    level: Literal["debug", "info", "warning", "error"] = "info"


class HttpSettings(_Strict):
    user_agent: str = "monitor/0.1 (+https://github.com/monitor-alignment/monitor)"
    connect_timeout: Duration = timedelta(seconds=10)
    read_timeout: Duration = timedelta(seconds=30)
    total_timeout: Duration = timedelta(seconds=60)
    max_body: Size = 10_000_000
    max_redirects: int = Field(default=5, ge=0, le=20)
    per_host: int = Field(default=2, ge=1, le=32)
    workers: int = Field(default=8, ge=1, le=256)


class ScheduleSettings(_Strict):
    tick: Duration = timedelta(seconds=5)  # how often the daemon looks for due feeds
    lease: Duration = timedelta(minutes=5)  # a claimed feed is free again after this
    max_backoff: Duration = timedelta(hours=6)  # failing feeds are retried at least this often
    keep_history: Duration = timedelta(days=30)  # poll history older than this is pruned


def _zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{name}' is not a time zone (use e.g. UTC, Europe/Berlin)") from None
    return name


TimeZone = Annotated[str, AfterValidator(_zone)]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class DigestConfig(_Strict):
    cron: str = Field(pattern=r"^\S+ \S+ \S+ \S+ \S+$")  # minute hour day month weekday
    timezone: TimeZone = "UTC"


class QuietHours(_Strict):
    start: ClockTime  # HH:MM, local time in `timezone`
    end: ClockTime
    timezone: TimeZone = "UTC"


class TargetConfig(_Strict):
    """Where alerts go. Apprise URLs carry tokens, so they normally come from the environment."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    urls_env: str | None = None  # variable holding Apprise URL(s), space- or comma-separated
    config_env: str | None = None  # variable holding the path of an Apprise config file
    urls: tuple[str, ...] = Field(default=(), repr=False)  # filled from urls_env (or given)
    config_file: Path | None = None  # filled from config_env
    format: Literal["auto", "slack", "email", "text"] = "auto"
    min_level: Level = "low"
    rules: tuple[str, ...] = ()  # only these rules (empty: all)
    tags: tuple[str, ...] = ()  # only rules with one of these tags (empty: all)
    mode: Literal["immediate", "digest"] = "immediate"
    digest: DigestConfig | None = None  # when mode is digest
    quiet_hours: QuietHours | None = None  # alerts are held, then sent when they end

    @model_validator(mode="after")
    def _has_a_destination(self) -> Self:
        if not self.urls and self.config_file is None:
            raise ValueError(f"target '{self.name}' has no Apprise URL: set urls_env (or urls)")
        if self.mode == "digest" and self.digest is None:
            raise ValueError(f"target '{self.name}' is a digest: give digest: {{cron: …}}")
        return self


class AlertSettings(_Strict):
    tick: Duration = timedelta(seconds=2)  # how often the sender looks for due deliveries
    first_retry: Duration = timedelta(seconds=30)  # backoff after the first failed attempt
    max_retry: Duration = timedelta(minutes=30)  # backoff cap
    cutoff: Duration = timedelta(hours=48)  # a delivery still failing after this is dead
    story_window: Duration = timedelta(hours=72)  # copies of a story arriving this late are new
    templates_dir: Path | None = None  # your own slack/email/text templates


class Defaults(_Strict):
    interval: Duration = timedelta(minutes=15)

    @field_validator("interval")
    @classmethod
    def _at_least_a_second(cls, interval: timedelta) -> timedelta:
        if interval < timedelta(seconds=1):
            raise ValueError("interval must be at least 1s")
        return interval


_FEED_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{1,8})*$")


class FeedConfig(_Strict):
    name: str
    url: str
    interval: Duration | None = None
    language: str | None = None
    tags: tuple[str, ...] = ()

    @field_validator("name")
    @classmethod
    def _slug(cls, name: str) -> str:
        if not _FEED_NAME.match(name):
            raise ValueError(
                f"'{name}' is not a feed name: use up to 64 lowercase letters, digits, "
                "'.', '_' or '-', starting with a letter or digit"
            )
        return name

    @field_validator("language")
    @classmethod
    def _language_code(cls, language: str | None) -> str | None:
        if language is not None and not _LANGUAGE.match(language):
            raise ValueError(f"'{language}' is not a language code (use e.g. en, ko, zh-Hant)")
        return language

    @field_validator("url")
    @classmethod
    def _http_url(cls, url: str) -> str:
        if not re.match(r"^https?://[^\s/?#]+[^\s]*$", url):
            raise ValueError(f"'{url}' is not an http(s) URL")
        return url

    @field_validator("interval")
    @classmethod
    def _at_least_a_second(cls, interval: timedelta | None) -> timedelta | None:
        if interval is not None and interval < timedelta(seconds=1):
            raise ValueError("interval must be at least 1s")
        return interval

    @property
    def every(self) -> timedelta:
        """The polling interval (filled in from `defaults` at load time)."""
        assert self.interval is not None
        return self.interval


class Settings(_Strict):
    database_url: str = "sqlite:///data/monitor.db"
    rules_dir: Path = Path("rules")  # rule files, with actors/ and vocab/ inside
    seeds_dir: Path = Path("seeds")  # the seed digests rules cite
    log: LogSettings = LogSettings()
    http: HttpSettings = HttpSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    defaults: Defaults = Defaults()
    feeds: tuple[FeedConfig, ...] = ()
    targets: tuple[TargetConfig, ...] = ()
    alerts: AlertSettings = AlertSettings()
    source: str = Field(default="", exclude=True)  # where the settings came from, for messages

    @model_validator(mode="after")
    def _fill_intervals(self) -> Self:
        # Done once here so every later stage reads `feed.every` and never consults defaults;
        # the model is frozen, hence the object.__setattr__.
        feeds = tuple(
            f if f.interval else f.model_copy(update={"interval": self.defaults.interval})
            for f in self.feeds
        )
        object.__setattr__(self, "feeds", feeds)
        return self

    def feed(self, name: str) -> FeedConfig:
        """The feed called `name`. Raises KeyError."""
        for feed in self.feeds:
            if feed.name == name:
                return feed
        raise KeyError(name)


def load_settings(
    path: Path | None = None, environ: Mapping[str, str] | None = None, *, optional: bool = False
) -> Settings:
    """Read monitor.yaml (from `path`, $MONITOR_CONFIG, else ./monitor.yaml) and MONITOR_*.

    With `optional`, a missing default ./monitor.yaml means the built-in defaults (commands
    such as `rules check` need no feeds); a file named explicitly must still exist.

    Raises:
        ConfigError: every problem found, each with file:line:col or the variable's name.
    """
    env = os.environ if environ is None else environ
    explicit = path or (Path(env[ENV_CONFIG]) if env.get(ENV_CONFIG) else None)
    chosen = explicit or DEFAULT_CONFIG
    if not chosen.exists() and optional and explicit is None:
        chosen = Path(os.devnull)
    elif not chosen.exists():
        where = f"{chosen}" if explicit else f"{chosen} (default; use --config or {ENV_CONFIG})"
        raise ConfigError([Problem(None, "config file not found", where=where)])
    try:
        doc = yamlpos.load_file(chosen)
    except InvalidFile as exc:
        raise ConfigError(exc.problems) from exc
    if doc.value is None:
        doc = yamlpos.Located({}, doc.path, doc.positions)
    if not isinstance(doc.value, dict):
        raise ConfigError([Problem(doc.pos_of(()), "the top level must be a mapping of settings")])
    data, from_env = _apply_environment(doc.value, env)
    problems = _duplicates(data, doc) + _resolve_secrets(data, doc, env)
    try:
        settings = Settings.model_validate({**data, "source": str(chosen)})
    except ValidationError as exc:
        problems += [_problem(err, doc, from_env) for err in exc.errors()]
    if problems:
        raise ConfigError(sorted(problems, key=_order))
    return settings


def _apply_environment(
    data: dict[str, Any], env: Mapping[str, str]
) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """Overlay MONITOR_SECTION__KEY=value on the file's data; remember which keys came from env.

    Variables whose first part names no setting (MONITOR_SLACK_URL …) are left alone: they are
    secrets that other settings refer to by name.
    """
    merged: dict[str, Any] = dict(data)
    sources: dict[tuple[str, ...], str] = {}
    top_keys = set(Settings.model_fields) - {"source"}
    for var in sorted(env):
        if not var.startswith(ENV_PREFIX) or var == ENV_CONFIG:
            continue
        keys = tuple(var[len(ENV_PREFIX) :].lower().split("__"))
        if keys[0] not in top_keys:
            continue
        node = merged
        for key in keys[:-1]:
            child = node.get(key)
            node[key] = dict(child) if isinstance(child, dict) else {}
            node = node[key]
        node[keys[-1]] = yamlpos.load_scalar(env[var])
        sources[keys] = var
    return merged, sources


def _resolve_secrets(
    data: dict[str, Any], doc: yamlpos.Located, env: Mapping[str, str]
) -> list[Problem]:
    """Put each target's Apprise URLs (or config file) from the environment into `data`."""
    problems: list[Problem] = []
    targets = data.get("targets")
    if not isinstance(targets, list):
        return problems
    for i, target in enumerate(targets):
        if not isinstance(target, dict):
            continue
        for key, into in (("urls_env", "urls"), ("config_env", "config_file")):
            var = target.get(key)
            if not isinstance(var, str):
                continue
            value = env.get(var, "").strip()
            if not value:
                problems.append(
                    Problem(
                        doc.pos_of(("targets", i, key)),
                        f"targets[{i}].{key}: environment variable {var} is not set",
                    )
                )
            elif into == "urls":
                target["urls"] = [u for u in re.split(r"[\s,]+", value) if u]
            else:
                target["config_file"] = value
    return problems


def _duplicates(data: dict[str, Any], doc: yamlpos.Located) -> list[Problem]:
    problems: list[Problem] = []
    for section, field in (("feeds", "name"), ("feeds", "url"), ("targets", "name")):
        entries = data.get(section)
        if not isinstance(entries, list):
            continue
        seen: dict[str, int] = {}
        for i, entry in enumerate(entries):
            value = entry.get(field) if isinstance(entry, dict) else None
            if not isinstance(value, str):
                continue
            if value in seen:
                first = doc.pos_of((section, seen[value], field))
                problems.append(
                    Problem(
                        doc.pos_of((section, i, field)),
                        f"{section}[{i}].{field}: duplicate {section[:-1]} {field} '{value}' "
                        f"(first at line {first.line})",
                    )
                )
            else:
                seen[value] = i
    return problems


def _problem(err: Any, doc: yamlpos.Located, from_env: dict[tuple[str, ...], str]) -> Problem:
    loc, message = validation.describe(err, Settings, unknown="unknown setting")
    for keys, var in from_env.items():
        if tuple(loc[: len(keys)]) == keys:
            return Problem(None, message, where=f"{var} (environment)")
    return Problem(doc.pos_of(loc), message)


def _order(problem: Problem) -> tuple[int, str, int, int]:
    if problem.pos is None:  # environment problems after the file's
        return (1, problem.where, 0, 0)
    return (0, problem.pos.path, problem.pos.line, problem.pos.col)
