"""Turn a feed document (bytes) into entries. The only user of feedparser; never sees HTTP.

Plain RSS 2.0 and Atom documents are read by `xmlfeed` (lxml, the same entries, much
faster); everything else, broken documents included, by feedparser.

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
from functools import cache
from typing import Any

import feedparser
from feedparser.api import StrictFeedParser

from monitor.errors import ParseError
from monitor.ingest.xmlfeed import read_plain_feed
from monitor.model import Entry, ParsedFeed

_ROOT_ELEMENT = re.compile(r"<[A-Za-z_:]")
_ENTITY = re.compile(r"<!ENTITY", re.IGNORECASE)
_HTML = re.compile(r"<\s*(!doctype\s+html|html[\s>]|head[\s>]|body[\s>])", re.IGNORECASE)
_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
_BOMLESS = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<\x00", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)


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
    plain = read_plain_feed(body, headers or {}, feedparser_reads)
    return plain if plain is not None else read_with_feedparser(body, headers, prolog)


def read_with_feedparser(
    body: bytes, headers: Mapping[str, str] | None, prolog: str | None = None
) -> ParsedFeed:
    """`parse_feed` without its fast path: what feedparser reads (bench/parse_equivalence.py
    compares the two). The entity check is the caller's."""
    prolog = _prolog_text(body) if prolog is None else prolog
    parsed = feedparser.parse(
        io.BytesIO(body),
        response_headers=dict(headers or {}),
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    bozo = _bozo_text(parsed)
    entries = tuple(_entry(e) for e in parsed.entries)
    if not entries and not parsed.get("version"):
        if "<" not in prolog and not _ROOT_ELEMENT.search(body[:1024].decode("latin-1")):
            start = body[:40].decode("utf-8", errors="replace").strip()
            raise ParseError(
                f"not a feed: the body is not XML (starts with {start!r})", kind="not-a-feed"
            )
        if _HTML.search(prolog) or _HTML.search(body[:2048].decode("latin-1")):
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


# feedparser's names for the namespaces it knows; elements of others keep their prefix
_NAMESPACES = {uri.lower(): prefix for uri, prefix in StrictFeedParser.namespaces.items()}


@cache
def feedparser_reads(tag: str, prefix: str | None) -> bool:
    """Whether feedparser has a reader of its own for this element (the xmlfeed fast path
    declines documents whose entries hold one it does not read alike)."""
    namespace, _, local = tag[1:].rpartition("}") if tag.startswith("{") else ("", "", tag)
    known = _NAMESPACES.get(namespace.lower())
    if "backend.userland.com/rss" in namespace.lower():
        known = ""
    name = known if known is not None else (prefix or "")
    method = f"{name}_{local.lower()}" if name else local.lower()
    return any(hasattr(StrictFeedParser, f"_{end}_{method}") for end in ("start", "end"))


def _prolog_text(body: bytes) -> str:
    """The document up to its root element: where a DOCTYPE and its entities must be."""
    text = _decoded_for_scan(body)
    root = _ROOT_ELEMENT.search(text)
    return text[: root.start() if root else len(text)]


def _decoded_for_scan(body: bytes) -> str:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(codec, errors="replace")
    for start, codec in _BOMLESS:
        if body.startswith(start):
            return body.decode(codec, errors="replace")
    return body.decode("latin-1")  # ASCII-compatible: enough to find markup


def _declares_entities(prolog: str) -> bool:
    return bool(_ENTITY.search(prolog))


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
