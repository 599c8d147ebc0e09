"""Clean parsed entries into items: plain NFKC text, aware-UTC dates, canonical links, keys.

Pure functions: no I/O, no clock (the poll's time is passed in). HTML is read with a real
HTML5 parser (selectolax/lexbor), never with regular expressions.
"""

import hashlib
import re
import unicodedata
from datetime import datetime, timedelta
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from selectolax.lexbor import LexborHTMLParser

from monitor.model import DateSource, Entry, Item

# Published dates this far ahead of the poll are treated as wrong (time-zone mistakes are
# common; years-ahead dates would pin an item to the top of every list).
FUTURE_TOLERANCE = timedelta(hours=1)
_DROPPED_ELEMENTS = "script, style, noscript, template, iframe, object, svg, head"
_BLOCK_ELEMENTS = (
    "p, div, br, li, ul, ol, h1, h2, h3, h4, h5, h6, tr, td, th, table, blockquote, pre, "
    "section, article, header, footer, figure, figcaption, hr, dd, dt"
)
_TRACKING_PARAMS = frozenset(
    "fbclid gclid dclid gbraid wbraid msclkid yclid igshid mc_cid mc_eid _hsenc _hsmi "
    "mkt_tok ocid cmpid ito ns_mchannel ns_source ns_campaign ns_linkname ns_fee sr_share "
    "at_medium at_campaign ref_src spm".split()
)
_TRACKING_PREFIXES = ("utm_", "__twitter")
_BLOCK_BREAK = "\u2029"  # marks block ends; source newlines inside a block are just spaces
# Invisible characters that split words for matching ("Pyong\u00adyang"); ZWJ/ZWNJ stay.
_INVISIBLE = "\u00ad\u200b\u2060\ufeff\u180e"
# Control (Cc), surrogate (Cs) and private-use (Co) characters, white space excepted, as a
# regex class instead of a category lookup per character (tests/test_normalize.py checks it
# against unicodedata over every code point).
_UNPRINTABLE_CLASS = (
    r"\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ud800-\udfff\ue000-\uf8ff"
    r"\U000f0000-\U000ffffd\U00100000-\U0010fffd"
)
_UNPRINTABLE = re.compile(f"[{_UNPRINTABLE_CLASS}]")
_DROPPED_CHARACTERS = re.compile(f"[{_INVISIBLE}{_UNPRINTABLE_CLASS}]")  # one pass for both


def normalize_entry(
    entry: Entry,
    *,
    feed_url: str,
    feed_language: str | None,
    fetched_at: datetime,
    link_is_unique: bool = True,
) -> Item:
    """Make an `Item` from a parsed `Entry`.

    Args:
        entry: as the parser produced it.
        feed_url: the URL the document came from; relative links are resolved against it.
        feed_language: the feed's language (from the document, else from the config).
        fetched_at: when the poll ran (aware UTC); stands in for a missing or future date.
        link_is_unique: False when other entries of the document share this link (a feed
            that links every entry to its home page), so the link cannot identify it.
    """
    title = html_to_text(entry.title or "")
    summary = html_to_text(entry.summary_html or entry.content_html or "")
    link = canonical_link(entry.link, feed_url) if entry.link else None
    published, source = _published(entry.published, fetched_at)
    return Item(
        key=item_key(
            entry.guid, link if link_is_unique else None, title, entry.date_text or "", summary
        ),
        guid=entry.guid,
        link=link,
        title=title or _first_words(summary),
        summary=summary,
        author=unicodedata.normalize("NFKC", entry.author) if entry.author else None,
        published_at=published,
        date_source=source,
        language=(entry.language or feed_language or None),
        tags=tuple(unicodedata.normalize("NFKC", t) for t in entry.tags),
    )


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment, NFKC-normalised, one line per block element."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        text = html.replace("\n", _BLOCK_BREAK)  # plain text: its line breaks are real
    else:
        tree = LexborHTMLParser(html)
        for node in tree.css(_DROPPED_ELEMENTS):
            node.decompose()
        for node in tree.css(_BLOCK_ELEMENTS):
            node.insert_after(_BLOCK_BREAK)
        text = tree.body.text(separator="") if tree.body is not None else ""
    text = _DROPPED_CHARACTERS.sub("", text)
    if not unicodedata.is_normalized("NFKC", text):  # most text is: the check is 200x faster
        text = unicodedata.normalize("NFKC", text)
    # each run of white space within a line one space (str.split's white space is the
    # regex's \s), no space at either end
    lines = (" ".join(line.split()) for line in text.split(_BLOCK_BREAK))
    return "\n".join(line for line in lines if line)


def canonical_link(link: str, base: str) -> str | None:
    """An absolute http(s) link with tracking parameters, fragment and default port removed."""
    absolute = urljoin(base, link.strip())
    parts = urlsplit(absolute)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return None
    if port and (parts.scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _TRACKING_PARAMS and not k.lower().startswith(_TRACKING_PREFIXES)
    ]
    return urlunsplit((parts.scheme, host, parts.path or "/", urlencode(query), ""))


def item_key(guid: str | None, link: str | None, title: str, date_text: str, text: str) -> str:
    """A key that stays the same each time the feed lists the same entry.

    The guid when there is one, else the canonical link, else the title with the date as
    written (or, when there is no date either, with the text).
    """
    if guid and guid.strip():
        basis = "guid\0" + guid.strip()
    elif link:
        basis = "link\0" + link
    else:
        folded = " ".join(title.casefold().split())
        tail = date_text.strip() or " ".join(text.casefold().split())
        basis = f"title\0{folded}\0{tail}"
    return hashlib.sha256(basis.encode("utf-8", errors="surrogatepass")).hexdigest()


def _published(value: datetime | None, fetched_at: datetime) -> tuple[datetime, DateSource]:
    if value is None:
        return fetched_at, "fetched"
    if value > fetched_at + FUTURE_TOLERANCE:
        return fetched_at, "clamped"
    return value, "feed"


def _first_words(text: str, limit: int = 80) -> str:
    line = text.split("\n", 1)[0]
    if len(line) <= limit:
        return line
    cut = line[: limit - 1].rsplit(" ", 1)[0] if " " in line[: limit - 1] else line[: limit - 1]
    return cut.rstrip(" ,;:") + "…"
