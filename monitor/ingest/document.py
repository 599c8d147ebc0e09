"""A feed document (bytes) to items: parse, then normalize every entry. The one place this
glue lives, so the daemon, `monitor poll` and `monitor rules test` read feeds alike."""

from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from monitor.ingest.normalize import normalize_entry
from monitor.ingest.parse import parse_feed
from monitor.model import Item, ParsedFeed


def read_document(
    body: bytes,
    headers: Mapping[str, str] | None,
    *,
    url: str,
    language: str | None,
    fetched_at: datetime,
) -> tuple[ParsedFeed, tuple[Item, ...]]:
    """The parsed document and its items. `language` is used when the document names none.

    Raises:
        ParseError: the body is not a usable feed.
    """
    parsed = parse_feed(body, headers)
    feed_language = parsed.language or language
    links = Counter(e.link for e in parsed.entries if e.link)
    items = tuple(
        normalize_entry(
            entry,
            feed_url=url,
            feed_language=feed_language,
            fetched_at=fetched_at,
            link_is_unique=links[entry.link] == 1 if entry.link else True,
        )
        for entry in parsed.entries
    )
    return parsed, items
