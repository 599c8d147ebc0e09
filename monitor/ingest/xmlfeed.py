"""The fast path for plain feeds: well-formed RSS 2.0 and Atom 1.0 read with lxml. The only
user of lxml; never sees HTTP.

feedparser reads any feed, however broken; most feeds are plain, well-formed documents that
lxml reads five to six times faster. This module reads such a document into the same `Entry`
values feedparser gives (bench/parse_equivalence.py compares the two on every fixture and
corpus feed, tests/test_xmlfeed.py on generated ones), and answers None for anything it is
not sure to read the same way, so that `parse` hands the document to feedparser: documents
that are not well-formed, a DOCTYPE, other formats and versions, `xml:base`, XHTML or base64
content, markup or cp1252 bytes inside a field, dates in forms other than RFC 822 (RSS) and
RFC 3339 (Atom), an encoding feedparser would pick otherwise (RFC 3023), and extension
elements feedparser reads into an entry's fields.
"""

import codecs
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from lxml import etree

from monitor.model import Entry, ParsedFeed

_ATOM = "{http://www.w3.org/2005/Atom}"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}encoded"
_DC = "{http://purl.org/dc/elements/1.1/}"
_MEDIA = "{http://search.yahoo.com/mrss/}"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"
# What an entry may hold for this module to read it: each element it knows, with the
# elements allowed inside it. Anything else, feedparser may map onto a field an Entry has
# (media:title onto the title, itunes:summary onto the summary, dcterms:modified onto the
# date …), so the document goes to feedparser. Media attachments, comment links and
# feedburner's original link feed no Entry field in either reader.
_ATTACHMENTS: dict[str, frozenset[str]] = dict.fromkeys(
    [f"{_MEDIA}{name}" for name in ("content", "thumbnail", "credit", "player", "group")]
    + [
        "{http://wellformedweb.org/CommentAPI/}commentRss",
        "{http://purl.org/rss/1.0/modules/slash/}comments",
        "{http://rssnamespace.org/feedburner/ext/1.0}origLink",
    ],
    frozenset(),
)
_RSS_ITEM = {
    **dict.fromkeys(
        "title link description guid pubDate author category comments enclosure source".split(),
        frozenset(),
    ),
    _CONTENT: frozenset(),
    **{f"{_DC}{name}": frozenset() for name in ("creator", "date", "subject")},
    **_ATTACHMENTS,
}
_ATOM_ENTRY = {
    **{
        f"{_ATOM}{name}": frozenset()
        for name in "id title link summary content published updated category rights".split()
    },
    f"{_ATOM}author": frozenset(f"{_ATOM}{name}" for name in ("name", "email", "uri")),
    **_ATTACHMENTS,
}
# fields an entry may repeat (categories, contents, links, attachments): the tags' ends
_REPEATABLE = tuple("category subject encoded content link thumbnail credit player group".split())
_XML_APPLICATION = tuple(
    f"application/{t}" for t in ("xml", "xml-dtd", "xml-external-parsed-entity")
)
_XML_TEXT = ("text/xml", "text/xml-external-parsed-entity")
_C1_CONTROLS = re.compile("[\x80-\x9f]")
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)\Z", re.IGNORECASE)
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
)


# Whether feedparser reads an element (its tag in Clark notation, and its prefix as the
# document writes it) with a reader of its own; `parse` answers from feedparser's tables.
FeedparserReads = Callable[[str, str | None], bool]


class _NotPlain(Exception):
    """The document needs feedparser."""


def read_plain_feed(
    body: bytes, headers: Mapping[str, str], reads: FeedparserReads
) -> ParsedFeed | None:
    """The document's entries, or None when it is not a plain RSS 2.0 or Atom 1.0 feed.

    `headers` are the response's, with lower-case names, as feedparser is given them.
    """
    if "content-location" in headers or "content-base" in headers:
        return None  # a base address from HTTP: feedparser resolves links against it
    if body[:4].startswith((b"\xfe\xff", b"\xff\xfe", b"\x00")) or b"\x00" in body[:4]:
        return None  # UTF-16 and UTF-32: feedparser's sniffing
    try:
        root = etree.fromstring(body, _PARSER)
        info = root.getroottree().docinfo
        if info.internalDTD is not None or not _decoded_alike(body, info.encoding, headers):
            return None
        if root.tag == "rss" and root.get("version") == "2.0":
            return _rss(root, headers.get("content-language"), reads)
        if root.tag == f"{_ATOM}feed":
            return _atom(root, headers.get("content-language"), reads)
    except (etree.XMLSyntaxError, _NotPlain, ValueError, LookupError):
        return None
    return None


def _decoded_alike(body: bytes, encoding: str | None, headers: Mapping[str, str]) -> bool:
    """Whether feedparser decodes the document with the encoding lxml used (its declaration,
    else UTF-8): feedparser follows RFC 3023, where an HTTP charset comes first and text/xml
    without one means US-ASCII, and calls anything but an XML media type an error."""
    used = codecs.lookup(encoding or "utf-8").name
    if not headers:
        return True  # no response: the declaration, else UTF-8, as lxml reads it
    if "content-type" not in headers:
        return False
    mime, _, parameters = headers["content-type"].partition(";")
    mime = mime.strip()
    charset = ""
    for parameter in parameters.split(";"):
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'")
    if "gb2312" in (charset.lower(), used):
        return False  # feedparser reads gb2312 as gb18030
    if mime in _XML_APPLICATION or (mime.startswith("application/") and mime.endswith("+xml")):
        return not charset or codecs.lookup(charset).name == used
    if mime in _XML_TEXT or (mime.startswith("text/") and mime.endswith("+xml")):
        return codecs.lookup(charset).name == used if charset else body.isascii()
    return False


def _rss(root: etree._Element, http_language: str | None, reads: FeedparserReads) -> ParsedFeed:
    channels = [c for c in root if c.tag == "channel"]
    if len(channels) != 1 or len(root) != 1:
        raise _NotPlain
    channel = channels[0]
    _check_plain(channel)
    items = [e for e in channel if e.tag == "item"]
    if not items:
        raise _NotPlain  # feedparser says what is wrong with an empty document
    return ParsedFeed(
        entries=tuple(_rss_item(item, http_language, reads) for item in items),
        title=_child_text(channel, "title"),
        # feedparser: the channel's <language>, else the root's xml:lang, else HTTP's
        language=_child_text(channel, "language") or _clean(_own_lang(root) or http_language),
        version="rss20",
        bozo=None,
    )


def _rss_item(item: etree._Element, language: str | None, reads: FeedparserReads) -> Entry:
    fields = _fields(item, _RSS_ITEM, reads)
    contents = [_text(e) or "" for e in fields.get(_CONTENT, [])]
    detail = _first(fields, "description")
    summary = _text(detail)
    if detail is None and contents:
        summary, detail = contents[0], fields[_CONTENT][0]
    date_text, published = None, None
    if (written := _text(_first(fields, "pubDate"))) is not None:
        date_text, published = written, _rfc822(written)
    elif (written := _text(_first(fields, f"{_DC}date"))) is not None:
        date_text, published = written, _rfc3339(written)
    author = _text(_first(fields, "author")) or _text(_first(fields, f"{_DC}creator"))
    return Entry(
        guid=_text(_first(fields, "guid")),
        link=_link(item, "guid"),
        title=_text(_first(fields, "title")),
        summary_html=_clean(summary),
        content_html="\n".join(contents) or None,
        author=author,
        published=published,
        date_text=date_text,
        tags=_tags(item, ("category", f"{_DC}subject")),
        language=_detail_language(detail, language),
    )


def _fields(
    entry: etree._Element, allowed: Mapping[str, frozenset[str]], reads: FeedparserReads
) -> dict[str, list[etree._Element]]:
    """The entry's fields by tag. Raises _NotPlain on an element feedparser would read into
    an Entry field that this module does not read the same way, on markup inside a field,
    and on a field written twice."""
    fields: dict[str, list[etree._Element]] = {}
    for child in entry.iterchildren(tag=etree.Element):
        inner = allowed.get(child.tag)
        if inner is not None and child.tag not in _ATTACHMENTS:
            if any(n.tag not in inner for n in child.iterdescendants(tag=etree.Element)):
                raise _NotPlain
            fields.setdefault(child.tag, []).append(child)
        else:
            _ignored_alike(child, reads)
    if any(len(found) > 1 for tag, found in fields.items() if not tag.endswith(_REPEATABLE)):
        raise _NotPlain
    return fields


def _ignored_alike(element: etree._Element, reads: FeedparserReads) -> None:
    """Raises _NotPlain unless feedparser, like this module, takes nothing from `element`
    (and what it holds) into an Entry field: attachments, and extensions it has no reader for."""
    for node in element.iter(tag=etree.Element):
        if node.tag not in _ATTACHMENTS and reads(node.tag, node.prefix):
            raise _NotPlain


def _atom(root: etree._Element, http_language: str | None, reads: FeedparserReads) -> ParsedFeed:
    _check_plain(root)
    language = _own_lang(root) or http_language
    entries = [e for e in root if e.tag == f"{_ATOM}entry"]
    if not entries:
        raise _NotPlain
    title = _first_child(root, f"{_ATOM}title")
    if title is not None:
        _text_construct(title)
    return ParsedFeed(
        entries=tuple(_atom_entry(e, language, reads) for e in entries),
        title=_text(title),
        language=_clean(language),
        version="atom10",
        bozo=None,
    )


def _atom_entry(entry: etree._Element, language: str | None, reads: FeedparserReads) -> Entry:
    fields = {
        k[len(_ATOM) :] if k.startswith(_ATOM) else k: v
        for k, v in _fields(entry, _ATOM_ENTRY, reads).items()
    }
    for name in ("title", "summary", "content"):
        for element in fields.get(name, []):
            _text_construct(element)
    contents = [_text(e) or "" for e in fields.get("content", [])]
    summary_element = _first(fields, "summary")
    summary = _text(summary_element)
    detail = summary_element
    if summary_element is None and fields.get("content"):
        summary, detail = contents[0], fields["content"][0]
    date_text, published = None, None
    for name in ("published", "updated"):
        written = _text(_first(fields, name))
        if written is not None:
            date_text, published = written, _rfc3339(written)
            break
    return Entry(
        guid=_text(_first(fields, "id")),
        link=_link(entry, f"{_ATOM}id"),
        title=_text(_first(fields, "title")),
        summary_html=_clean(summary),
        content_html="\n".join(contents) or None,
        author=_atom_author(_first(fields, "author")),
        published=published,
        date_text=date_text,
        tags=_tags(entry, (f"{_ATOM}category",)),
        language=_detail_language(detail, language),
    )


def _link(entry: etree._Element, id_tag: str) -> str | None:
    """The entry's link as feedparser picks it, in document order: an RSS <link>'s text or
    the href of an alternate HTML link (a later one replaces an earlier one), else the id
    when it is a permalink (RSS guids are unless isPermaLink says otherwise; Atom ids
    always are) and came before any link."""
    link: str | None = None
    seen_link = False
    for child in entry.iterchildren(tag=etree.Element):
        attributes = {str(k).lower(): str(v) for k, v in child.attrib.items()}
        if child.tag == "link":
            link, seen_link = _text(child), True
        elif child.tag == f"{_ATOM}link":
            if "href" not in attributes or "url" in attributes or "uri" in attributes:
                raise _NotPlain  # feedparser reads those links its own way
            rel = attributes.get("rel", "alternate")
            kind = attributes.get("type", "application/atom+xml" if rel == "self" else "text/html")
            if rel == "alternate" and kind.lower() in ("text/html", "application/xhtml+xml"):
                link, seen_link = _clean(attributes["href"]), True
        elif (
            child.tag == id_tag
            and not seen_link
            and attributes.get("ispermalink", "true") == "true"
        ):
            link, seen_link = _text(child), True
    return link


def _tags(entry: etree._Element, tags: tuple[str, ...]) -> tuple[str, ...]:
    """The category terms in document order, as feedparser keeps them: once per distinct
    (term, scheme, label). RSS terms are the text (the scheme its domain); Atom's the term."""
    seen: list[tuple[str | None, str | None, str | None]] = []
    for element in entry.iterchildren(*tags):
        if element.tag == f"{_ATOM}category":
            if _text(element):
                raise _NotPlain  # text inside an Atom category: feedparser's own merging
            key = (_clean(element.get("term")), element.get("scheme"), element.get("label"))
        elif element.get("term") is not None or element.get("label") is not None:
            raise _NotPlain
        else:
            key = (_text(element), element.get("domain"), None)
        if key not in seen and any(part is not None for part in key):
            seen.append(key)
    return tuple(term for term, _, _ in seen if term)


def _atom_author(author: etree._Element | None) -> str | None:
    if author is None:
        return None
    name = _child_text(author, f"{_ATOM}name")
    email = _child_text(author, f"{_ATOM}email")
    if name and email:
        return f"{name} ({email})"
    return name or email


def _text_construct(element: etree._Element) -> None:
    """Atom text: plain or escaped HTML, as a string; XHTML and base64 go to feedparser."""
    kind = element.get("type", "text")
    if kind not in ("text", "html", "text/plain", "text/html") or len(element):
        raise _NotPlain
    if element.get("mode"):
        raise _NotPlain  # Atom 0.3's escaped/base64 modes


def _check_plain(element: etree._Element) -> None:
    if any(node.get(_XML_BASE) is not None for node in element.iter(tag=etree.Element)):
        raise _NotPlain


def _first(fields: dict[str, list[etree._Element]], name: str) -> etree._Element | None:
    found = fields.get(name)
    return found[0] if found else None


def _first_child(element: etree._Element, tag: str) -> etree._Element | None:
    return next((c for c in element if c.tag == tag), None)


def _child_text(element: etree._Element, tag: str) -> str | None:
    return _text(_first_child(element, tag))


def _text(element: etree._Element | None) -> str | None:
    """The element's text, stripped; None when it is missing or blank."""
    if element is None:
        return None
    if len(element):
        raise _NotPlain  # markup (or a comment) inside the text: feedparser's serialisation
    text = element.text or ""
    if _C1_CONTROLS.search(text):
        raise _NotPlain  # cp1252 read as latin-1, or text encoded twice: feedparser repairs it
    return text.strip() or None


def _own_lang(element: etree._Element) -> str | None:
    return element.get(_XML_LANG) or element.get("lang")


def _lang_of(element: etree._Element) -> str | None:
    for node in (element, *element.iterancestors()):
        found = node.get(_XML_LANG, node.get("lang"))
        if found is not None:
            return found or None  # xml:lang="" says: no language
    return None


def _detail_language(detail: etree._Element | None, language: str | None) -> str | None:
    """The language of the summary's element, as feedparser gives it (none without one)."""
    return None if detail is None else _clean(_lang_of(detail) or language)


def _rfc822(text: str) -> datetime:
    moment = parsedate_to_datetime(text)  # raises ValueError on what it cannot read
    if moment.tzinfo is None:
        raise _NotPlain  # "-0000" and missing zones: feedparser's rules
    return moment.astimezone(UTC)


def _rfc3339(text: str) -> datetime:
    if not _RFC3339.match(text):
        raise _NotPlain
    return datetime.fromisoformat(text.upper().replace("Z", "+00:00")).astimezone(UTC)


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    return text or None
