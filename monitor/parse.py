"""Turn a feed document (bytes) into entries. The only user of feedparser; never sees HTTP.

feedparser is given bytes wrapped in BytesIO, never a str (it would try a str as a path or
URL), and documents that declare XML entities are refused before parsing: feedparser's
fallback parser re-expands "safe" entities and a 200 KB document can exhaust memory.
"""

import calendar
import io
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser

from monitor.errors import ParseError
from monitor.model import Entry, ParsedFeed

_PROLOG_BYTES = 65_536
_DOCTYPE_SUBSET = re.compile(r"<!DOCTYPE[^>\[]*\[(.*?)\]\s*>", re.IGNORECASE | re.DOTALL)
_ENTITY = re.compile(r"<!ENTITY", re.IGNORECASE)
_HTML = re.compile(r"<\s*(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.IGNORECASE)


def parse_feed(body: bytes, headers: Mapping[str, str] | None = None) -> ParsedFeed:
    """Parse an RSS/Atom/RDF document.

    Args:
        body: the document as received (already decompressed).
        headers: response headers that carry the charset (content-type) and base URL.

    Raises:
        ParseError: empty body, declared entities, not a feed, or nothing usable in it.
    """
    if not body.strip():
        raise ParseError("empty body: the server sent no document", kind="empty")
    prolog = _prolog_text(body)
    if _declares_entities(prolog):
        raise ParseError(
            "document declares XML entities (<!ENTITY>); refused to avoid entity expansion",
            kind="entities",
        )
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=dict(headers or {}),
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    bozo = _bozo_text(parsed)
    entries = tuple(_entry(e) for e in parsed.entries)
    if not entries and not parsed.get("version"):
        if _HTML.search(prolog):
            raise ParseError("not a feed: the server sent an HTML page", kind="not-a-feed")
        if bozo:
            raise ParseError(f"not a feed: {bozo}", kind="malformed")
        raise ParseError("not a feed: no RSS, Atom or RDF root element", kind="not-a-feed")
    if not entries and bozo:
        raise ParseError(f"broken feed with no readable entries: {bozo}", kind="malformed")
    feed = parsed.get("feed", {})
    return ParsedFeed(
        entries=entries,
        title=_text(feed.get("title")),
        language=_text(feed.get("language")),
        version=str(parsed.get("version") or ""),
        bozo=bozo,
    )


def _prolog_text(body: bytes) -> str:
    head = body[:_PROLOG_BYTES]
    for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            return head[2:].decode(codec, errors="replace")
    if head[:4] in (b"<\x00?\x00", b"<\x00!\x00"):
        return head.decode("utf-16-le", errors="replace")
    if head[:4] in (b"\x00<\x00?", b"\x00<\x00!"):
        return head.decode("utf-16-be", errors="replace")
    return head.decode("latin-1")  # ASCII-compatible: enough to find markup


def _declares_entities(prolog: str) -> bool:
    subset = _DOCTYPE_SUBSET.search(prolog)
    if subset and _ENTITY.search(subset.group(1)):
        return True
    # A DOCTYPE whose internal subset never closes within the prolog is refused as well.
    return bool(_ENTITY.search(prolog)) and not _HTML.search(prolog[:200])


def _bozo_text(parsed: Any) -> str | None:
    if not parsed.get("bozo"):
        return None
    exc = parsed.get("bozo_exception")
    name = type(exc).__name__ if exc is not None else "error"
    return f"{name}: {exc}" if exc is not None else name


def _entry(raw: Any) -> Entry:
    content = raw.get("content") or []
    content_html = "\n".join(str(c.get("value", "")) for c in content) or None
    detail = raw.get("summary_detail") or (content[0] if content else None) or {}
    published = _date(raw.get("published_parsed")) or _date(raw.get("updated_parsed"))
    return Entry(
        guid=_text(raw.get("id")),
        link=_text(raw.get("link")),
        title=_text(raw.get("title")),
        summary_html=_text(raw.get("summary")),
        content_html=content_html,
        author=_text(raw.get("author")),
        published=published,
        date_text=_text(raw.get("published") or raw.get("updated")),
        tags=tuple(t for t in (_text(tag.get("term")) for tag in raw.get("tags") or []) if t),
        language=_text(detail.get("language")),
    )


def _date(value: time.struct_time | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
