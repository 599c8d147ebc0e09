"""Turn an `Alert` into a message: Slack mrkdwn, email HTML (with a text part) or plain text.

The only user of Jinja2. HTML is autoescaped and Markdown (which Apprise turns into Slack's
mrkdwn) has its markup characters escaped, so a feed cannot inject markup into an alert.
Users can override any template with a file of the same name in `alerts.templates_dir`.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape

from monitor.alerts.links import match_url
from monitor.model import LEVELS, Alert, Evidence, Notice

KINDS = ("slack", "email", "text")


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str
    format: str  # text | html | markdown (Apprise's body formats)


class Renderer:
    """Loads the templates once; `render` is cheap."""

    def __init__(self, templates_dir: Path | None = None, base_url: str | None = None) -> None:
        self._base_url = base_url  # the dashboard's public root: alerts link to their match
        loaders = [FileSystemLoader(str(templates_dir))] if templates_dir else []
        self._env = Environment(
            loader=ChoiceLoader([*loaders, PackageLoader("monitor.alerts", "templates")]),
            autoescape=select_autoescape(["html.j2"]),
            trim_blocks=True,
            keep_trailing_newline=False,
        )
        self._env.filters["md"] = _markdown_escape

    def render(self, alert: Alert, kind: str) -> Message:
        """The message for `alert` in the style of `kind` (slack, email or text)."""
        context = {
            "alert": alert,
            "segments": marked_segments(alert),
            "published": alert.published_at.strftime("%Y-%m-%d %H:%M UTC"),
            "why": ", ".join(dict.fromkeys(f"{e.text} ({e.ref})" for e in alert.evidence)),
            "dashboard": (
                match_url(self._base_url, alert.match_id)
                if self._base_url and alert.match_id is not None
                else None
            ),
        }
        title = f"[{alert.level.upper()}] {alert.rule}: {alert.title}"
        if kind == "email":
            return Message(title, self._env.get_template("email.html.j2").render(context), "html")
        name = "slack.j2" if kind == "slack" else "text.j2"
        body = self._env.get_template(name).render(context).strip()
        return Message(title, body, "markdown" if kind == "slack" else "text")

    def render_digest(self, alerts: Sequence[Alert], kind: str) -> Message:
        """One message listing `alerts`, grouped by rule, rules by level (highest first),
        then newest first within a rule."""
        groups: dict[str, list[Alert]] = {}
        for alert in sorted(alerts, key=lambda a: a.published_at, reverse=True):
            groups.setdefault(alert.rule, []).append(alert)
        ordered = sorted(groups.items(), key=lambda g: (-LEVELS.index(g[1][0].level), g[0]))
        title = f"monitor digest: {len(alerts)} alert(s) from {len(ordered)} rule(s)"
        if kind == "email":
            body = self._env.get_template("digest.html.j2").render(groups=ordered)
            return Message(title, body, "html")
        body = self._env.get_template("digest.j2").render(groups=ordered).strip()
        return Message(title, body, "markdown")

    def render_notice(self, notice: Notice, kind: str) -> Message:
        """The message for a notice about monitor itself (a feed down or back)."""
        title = f"[{notice.level.upper()}] monitor: {notice.title}"
        if kind == "email":
            body = self._env.get_template("notice.html.j2").render(notice=notice)
            return Message(title, body, "html")
        template = self._env.get_template("notice.j2")
        body = template.render(notice=notice, markdown=kind == "slack").strip()
        return Message(title, body, "markdown" if kind == "slack" else "text")


def marked_segments(alert: Alert) -> list[tuple[str, bool]]:
    """The sentence cut into (text, is-evidence) pieces, so templates can mark the words."""
    return segments(alert.sentence, alert.evidence)


def segments(sentence: str, evidence: Sequence[Evidence]) -> list[tuple[str, bool]]:
    """`sentence` cut into (text, is-evidence) pieces at the words of `evidence`."""
    spans = []
    for e in evidence:
        start = sentence.find(e.text) if e.text else -1
        if start >= 0:
            spans.append((start, start + len(e.text)))
    pieces: list[tuple[str, bool]] = []
    cursor = 0
    for start, end in sorted(spans):
        if start < cursor:
            continue  # overlaps a span already marked
        if start > cursor:
            pieces.append((sentence[cursor:start], False))
        pieces.append((sentence[start:end], True))
        cursor = end
    if cursor < len(sentence):
        pieces.append((sentence[cursor:], False))
    return pieces


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|>~])")


def _markdown_escape(text: object) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))
