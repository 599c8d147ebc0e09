"""The dashboard's HTML templates (web/templates), rendered with Jinja2.

Jinja2's second home (the first is alerts/render.py, for messages): every template is
autoescaped, whatever its name, so no value from a feed, a rule or an error can become
markup. Secrets never reach a template: URLs and error texts pass through `redact` first.
"""

import re
from datetime import datetime, timedelta
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from monitor.alerts.links import match_path, story_path
from monitor.alerts.render import segments
from monitor.redact import HIDDEN, redact_url

_URL = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*)://[^\s'\"<>]+")


class Templates:
    """Loads the templates once; `render` is cheap."""

    def __init__(self) -> None:
        self._env = Environment(
            loader=PackageLoader("monitor.web", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(
            ts=timestamp,
            ago=ago,
            pct=percent,
            redact=redact,
            segments=segments,
            web_link=web_link,
        )
        self._env.globals.update(match_path=match_path, story_path=story_path)

    def render(self, name: str, context: dict[str, Any]) -> str:
        return self._env.get_template(name).render(context)


def timestamp(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def ago(moment: datetime | None, now: datetime) -> str:
    """'5m ago', 'in 2h', 'never'."""
    if moment is None:
        return "never"
    delta = now - moment
    future = delta < timedelta(0)
    seconds = abs(delta.total_seconds())
    for size, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            text = f"{int(seconds // size)}{unit}"
            break
    else:
        text = f"{int(seconds)}s"
    return f"in {text}" if future else f"{text} ago"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


def redact(text: str | None) -> str:
    """`text` with every URL's secrets hidden: http(s) URLs lose passwords and token-like
    parameters; any other scheme (Apprise: slack://, mailtos://, …) keeps only its scheme,
    since its path is where the tokens are."""
    if not text:
        return ""

    def hide(found: re.Match[str]) -> str:
        if found[1].lower() in ("http", "https"):
            return redact_url(found[0])
        return f"{found[1]}://{HIDDEN}"

    return _URL.sub(hide, text)


def web_link(url: str | None) -> str:
    """`url` when it is an http(s) address; '' otherwise (no javascript: or data: links
    from a feed)."""
    if url and re.match(r"^https?://", url, re.IGNORECASE):
        return url
    return ""
