"""The shape of monitor.yaml: every setting, its default and how it is checked (pydantic,
extra keys are errors). Frozen once loaded. Reading the file and the environment is
`monitor.config`'s job; this module only says what a valid configuration is.
"""

import re
from datetime import timedelta
from pathlib import Path
from typing import Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.fields import ClockTime, Duration, Size, TimeZone
from monitor.model import Level


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
    # processes that parse feeds (0: one per CPU but one, the daemon's own)
    readers: int = Field(default=0, ge=0, le=64)


class DigestConfig(_Strict):
    """When a digest goes out: on a cron schedule in a time zone, or every so often."""

    cron: str | None = Field(default=None, pattern=r"^\S+ \S+ \S+ \S+ \S+$")  # m h dom mon dow
    timezone: TimeZone = "UTC"
    every: Duration | None = None  # instead of cron: e.g. 1h

    @model_validator(mode="after")
    def _one_schedule(self) -> Self:
        if (self.cron is None) == (self.every is None):
            raise ValueError('give either cron (e.g. "0 8 * * 1-5") or every (e.g. 1h)')
        return self


class QuietHours(_Strict):
    start: ClockTime  # HH:MM (or HH:MM:SS), local time in `timezone`
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
    # a delivery being sent is leased this long; a daemon that dies mid-send is noticed at
    # once by its successor on the same host, and by others when this runs out
    lease: Duration = timedelta(minutes=2)


class RetentionSettings(_Strict):
    """How long rows are kept; the daemon prunes older ones (and `monitor db prune`)."""

    items: Duration = timedelta(days=90)  # items no rule matched
    matches: Duration = timedelta(days=730)  # matches, their evidence, items and stories
    deliveries: Duration = timedelta(days=365)  # finished deliveries and their attempts
    polls: Duration = timedelta(days=30)  # poll history


class FeedHealthSettings(_Strict):
    """Alerts about the feeds themselves, for whoever keeps monitor running."""

    notify: tuple[str, ...] = ()  # targets that get them (none: only the log says so)
    after: Duration = timedelta(hours=24)  # a feed failing this long alerts once; gone: at once


class WebSettings(_Strict):
    """The dashboard (`monitor web`): where it listens, the public URL alerts link to, and
    the variable holding the token that writes (feedback, retries) need."""

    listen: str = "127.0.0.1:8080"  # HOST:PORT; [::1]:8080 for IPv6
    in_daemon: bool = False  # `monitor run` serves the dashboard too (and /healthz, /metrics)
    base_url: str | None = None  # its public root, e.g. https://monitor.example.org (alerts
    # link to matches there)
    token_env: str = "MONITOR_WEB_TOKEN"  # variable holding the write token (optional)
    token: str | None = Field(default=None, repr=False, exclude=True)  # filled from token_env

    @field_validator("listen")
    @classmethod
    def _host_port(cls, listen: str) -> str:
        found = re.match(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$", listen)
        if not found or not 0 < int(found[2]) < 65536:
            raise ValueError(f"'{listen}' is not HOST:PORT (e.g. 127.0.0.1:8080)")
        return listen

    @field_validator("base_url")
    @classmethod
    def _http_base(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^\s/?#]+/?$", url):
            raise ValueError(f"'{url}' is not the root of an http(s) site (e.g. https://host)")
        return url.rstrip("/") if url else url

    @property
    def host(self) -> str:
        return self.listen.rsplit(":", 1)[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rsplit(":", 1)[1])


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
    def host(self) -> str:
        """The host the feed is fetched from: polls to one host share its per-host limit."""
        return (urlsplit(self.url).hostname or "").lower()

    @property
    def every(self) -> timedelta:
        """The polling interval (filled in from `defaults` at load time)."""
        assert self.interval is not None
        return self.interval


class Settings(_Strict):
    database_url: str = "sqlite:///data/monitor.db"
    rules_dir: Path = Path("rules")  # rule files, with actors/ and vocab/ inside
    seeds_dir: Path = Path("seeds")  # the seed digests rules cite
    # lemma dictionaries as files the readers share (None: each process its own copy)
    cache_dir: Path | None = Path("data/cache")
    log: LogSettings = LogSettings()
    http: HttpSettings = HttpSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    defaults: Defaults = Defaults()
    feeds: tuple[FeedConfig, ...] = ()
    targets: tuple[TargetConfig, ...] = ()
    alerts: AlertSettings = AlertSettings()
    feed_health: FeedHealthSettings = FeedHealthSettings()
    retention: RetentionSettings = RetentionSettings()
    web: WebSettings = WebSettings()
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
