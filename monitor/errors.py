"""Every error monitor raises on purpose. The CLI turns them into messages and exit codes.

MonitorError
├── InvalidFile          a YAML file is unreadable or invalid (carries every problem found)
│   └── ConfigError      monitor.yaml or MONITOR_* is invalid
├── FetchError           one feed could not be downloaded
│   ├── FeedGone         410 Gone: the publisher removed the feed
│   ├── RateLimited      429/503 with an optional Retry-After
│   ├── HTTPStatusError  any other non-2xx answer
│   ├── BodyTooLarge     the decoded body passed the size cap
│   ├── PollTimeout      a timeout (connect, read or the poll's total budget)
│   └── TransportError   DNS, refused connection, TLS, too many redirects …
├── ParseError           the body is not a usable RSS/Atom document
└── StoreError           the database is unreachable or its schema is not usable
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pos:
    """A place in a text file, 1-based, printed the way compilers and editors read it."""

    path: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem found while validating a file: where it is and what is wrong."""

    pos: Pos | None
    message: str
    where: str = ""  # set instead of pos for things that are not in a file (env variables)
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        place = str(self.pos) if self.pos else self.where
        return (
            f"{place}: {self.severity}: {self.message}"
            if place
            else f"{self.severity}: {self.message}"
        )


class MonitorError(Exception):
    """Base class of every error monitor raises on purpose."""


class InvalidFile(MonitorError):
    """A file failed validation; `problems` lists every problem found, in file order."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ConfigError(InvalidFile):
    """monitor.yaml or a MONITOR_* variable is invalid."""


class RuleError(InvalidFile):
    """Rule, actor, vocabulary or seed files are invalid (or an inline example fails)."""


class FetchError(MonitorError):
    """A feed could not be fetched. `kind` is a short stable word shown in `monitor feeds`."""

    kind = "fetch"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class FeedGone(FetchError):
    kind = "gone"


class RateLimited(FetchError):
    kind = "rate-limited"

    def __init__(self, message: str, *, status: int, retry_after: float | None) -> None:
        self.retry_after = retry_after
        super().__init__(message, status=status)


class HTTPStatusError(FetchError):
    kind = "http"


class BodyTooLarge(FetchError):
    kind = "too-large"


class PollTimeout(FetchError):
    kind = "timeout"


class TransportError(FetchError):
    kind = "network"


class ParseError(MonitorError):
    """The body is not a usable feed. `kind` is a short stable word shown in `monitor feeds`."""

    def __init__(self, message: str, *, kind: str = "parse") -> None:
        self.kind = kind
        super().__init__(message)


class AlertError(MonitorError):
    """An alert target cannot be set up (its Apprise URL or config file is invalid)."""


class StoreError(MonitorError):
    """The database cannot be reached or used."""
