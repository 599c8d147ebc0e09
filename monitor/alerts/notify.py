"""Send messages to alert targets. The only user of Apprise.

One Apprise object per target, so each target's success or failure is known on its own; the
result is taken from Apprise's return value (never from its logs' presence), and the failure
detail from the per-service log it returns.
"""

import logging
from dataclasses import dataclass
from typing import Protocol

import apprise

from monitor.alerts.render import Message
from monitor.errors import AlertError
from monitor.settings import TargetConfig

log = logging.getLogger(__name__)
_FORMATS = {
    "text": apprise.NotifyFormat.TEXT,
    "html": apprise.NotifyFormat.HTML,
    "markdown": apprise.NotifyFormat.MARKDOWN,
}


@dataclass(frozen=True, slots=True)
class Sent:
    ok: bool
    detail: str = ""


class Notifier(Protocol):
    name: str
    kind: str  # slack | email | text: which template suits it

    def send(self, message: Message) -> Sent: ...

    def describe(self) -> list[str]: ...


class AppriseNotifier:
    """A configured target: its Apprise URLs, or an Apprise config file."""

    def __init__(self, target: TargetConfig) -> None:
        self.name = target.name
        self._apprise = apprise.Apprise()
        for url in target.urls:
            if not self._apprise.add(url):
                raise AlertError(
                    f"target '{target.name}': Apprise cannot use URL "
                    f"{_scheme(url)}://… (unknown service or malformed)"
                )
        if target.config_file is not None:
            config = apprise.AppriseConfig()
            if not config.add(str(target.config_file)) or not self._apprise.add(config):
                raise AlertError(
                    f"target '{target.name}': cannot read Apprise config {target.config_file}"
                )
        self.kind = target.format if target.format != "auto" else _guess_kind(target.urls)

    def send(self, message: Message) -> Sent:
        result = self._apprise.notify(
            body=message.body, title=message.title, body_format=_FORMATS[message.format]
        )
        if result:
            return Sent(True)
        if result is None or len(self._apprise) == 0:
            return Sent(False, "no service configured for this target")
        details = [entry.message for entry in result.logs() if entry.message]
        return Sent(False, "; ".join(dict.fromkeys(details)) or "the service refused")

    def describe(self) -> list[str]:
        """The target's URLs with their secrets hidden."""
        return [str(service.url(privacy=True)) for service in self._apprise]  # type: ignore[no-untyped-call]


class LogNotifier:
    """Writes alerts to the log: what happens when no target is configured."""

    name = "log"
    kind = "text"

    def send(self, message: Message) -> Sent:
        log.warning("alert", extra={"title": message.title, "body": message.body})
        return Sent(True)

    def describe(self) -> list[str]:
        return ["the daemon's log"]


def build_notifiers(targets: tuple[TargetConfig, ...]) -> dict[str, Notifier]:
    """A notifier per target (the log when there are none).

    Raises:
        AlertError: a target's URL or config file is unusable.
    """
    if not targets:
        return {"log": LogNotifier()}
    return {t.name: AppriseNotifier(t) for t in targets}


def _guess_kind(urls: tuple[str, ...]) -> str:
    scheme = _scheme(urls[0]) if urls else ""
    if scheme == "slack" or "hooks.slack.com" in (urls[0] if urls else ""):
        return "slack"
    if scheme in ("mailto", "mailtos"):
        return "email"
    return "text"


def _scheme(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else "?"
