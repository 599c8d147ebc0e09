"""The lxml fast path reads plain feeds exactly as feedparser does, and hands everything else
to feedparser (bench/parse_equivalence.py runs the same comparison over every corpus feed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.ingest.parse import feedparser_reads, parse_feed, read_with_feedparser
from monitor.ingest.xmlfeed import read_plain_feed

# Text as feeds carry it: any letters (several scripts), punctuation, markup characters and
# entities' ingredients, leading and trailing space.
_TEXT = st.text(
    alphabet=st.sampled_from(list("abcXYZ 019.,;:!?'\"&<>/=\n\téßøПривет한국中文—…")),
    max_size=40,
)
_DATES = st.datetimes(  # hypothesis takes naive bounds and makes aware values
    min_value=datetime(1995, 1, 1),  # noqa: DTZ001
    max_value=datetime(2035, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
)
_OFFSETS = st.sampled_from([0, 60, -300, 330, 540])


def _rfc822(moment: datetime, offset: int) -> str:
    from datetime import timezone

    return format_datetime(moment.astimezone(timezone(timedelta(minutes=offset))))


def _rfc3339(moment: datetime, offset: int) -> str:
    from datetime import timezone

    if offset == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.astimezone(timezone(timedelta(minutes=offset))).isoformat(timespec="seconds")


@st.composite
def rss_items(draw: st.DrawFn) -> str:
    parts = []
    for name in draw(st.permutations(["title", "link", "description", "guid", "pubDate"])):
        if not draw(st.booleans()):
            continue
        if name == "pubDate":
            value = _rfc822(draw(_DATES), draw(_OFFSETS))
        elif name in ("link", "guid"):
            value = draw(
                st.sampled_from(["https://ex.org/a?b=1&c=2", " https://ex.org/x ", "id-7"])
            )
        else:
            value = draw(_TEXT)
        attributes = ""
        if name == "guid" and draw(st.booleans()):
            attributes = f' isPermaLink="{draw(st.sampled_from(["true", "false"]))}"'
        if draw(st.booleans()) and name in ("title", "description"):
            parts.append(f"<{name}{attributes}><![CDATA[{value.replace(']]>', '')}]]></{name}>")
        else:
            parts.append(f"<{name}{attributes}>{escape(value, quote=False)}</{name}>")
    parts += [
        f"<category>{escape(draw(_TEXT), quote=False)}</category>"
        for _ in range(draw(st.integers(0, 2)))
    ]
    if draw(st.booleans()):
        parts.append(f"<content:encoded>{escape(draw(_TEXT), quote=False)}</content:encoded>")
    if draw(st.booleans()):
        parts.append(f"<dc:creator>{escape(draw(_TEXT), quote=False)}</dc:creator>")
    if draw(st.booleans()):
        parts.append('<media:thumbnail url="https://ex.org/i.jpg"/><wp:post-id>9</wp:post-id>')
    return "<item>" + "".join(parts) + "</item>"


@st.composite
def rss_documents(draw: st.DrawFn) -> bytes:
    items = "".join(draw(st.lists(rss_items(), min_size=1, max_size=4)))
    language = draw(st.sampled_from(["", "<language>de</language>", "<language>pt-BR</language>"]))
    lang_attribute = draw(st.sampled_from(["", ' xml:lang="fr"']))
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:media="http://search.yahoo.com/mrss/"'
        f' xmlns:wp="com-wordpress:feed-additions:1"><channel{lang_attribute}>'
        f"<title>{escape(draw(_TEXT), quote=False)}</title>{language}{items}</channel></rss>"
    ).encode()


@st.composite
def atom_entries(draw: st.DrawFn) -> str:
    parts = []
    names = ["id", "title", "link", "link2", "summary", "content", "published", "updated"]
    for name in draw(st.permutations(names)):
        if not draw(st.booleans()):
            continue
        if name in ("published", "updated"):
            parts.append(f"<{name}>{_rfc3339(draw(_DATES), draw(_OFFSETS))}</{name}>")
        elif name in ("link", "link2"):
            rel = draw(st.sampled_from(["", ' rel="alternate"', ' rel="self"', ' rel="related"']))
            kind = draw(st.sampled_from(["", ' type="text/html"', ' type="application/pdf"']))
            href = draw(st.sampled_from(["https://ex.org/1", "https://ex.org/2?x=1&amp;y=2"]))
            parts.append(f'<link{rel}{kind} href="{href}"/>')
        elif name == "id":
            parts.append(
                f"<id>{draw(st.sampled_from(['tag:ex.org,2024:1', 'https://ex.org/i']))}</id>"
            )
        else:
            kind = draw(st.sampled_from(["", ' type="text"', ' type="html"']))
            lang = draw(st.sampled_from(["", ' xml:lang="es"']))
            parts.append(f"<{name}{kind}{lang}>{escape(draw(_TEXT), quote=False)}</{name}>")
    if draw(st.booleans()):
        email = draw(st.sampled_from(["", "<email>a@ex.org</email>"]))
        parts.append(f"<author><name>{escape(draw(_TEXT), quote=False)}</name>{email}</author>")
    parts += [f'<category term="{escape(draw(_TEXT))}"/>' for _ in range(draw(st.integers(0, 2)))]
    return "<entry>" + "".join(parts) + "</entry>"


@st.composite
def atom_documents(draw: st.DrawFn) -> bytes:
    entries = "".join(draw(st.lists(atom_entries(), min_size=1, max_size=4)))
    lang = draw(st.sampled_from(["", ' xml:lang="ko"']))
    return (
        f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"{lang}>'
        f"<title>{escape(draw(_TEXT), quote=False)}</title>{entries}</feed>"
    ).encode()


# Responses whose encoding rules agree with the documents' (UTF-8, declared)
_RESPONSES = st.sampled_from(
    [
        {},
        {"content-type": "application/rss+xml; charset=utf-8"},
        {"content-type": "application/atom+xml", "content-language": "uk"},
        {"content-type": "application/xml; charset=UTF-8"},
        {"content-type": "text/xml; charset=utf-8"},
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(rss_documents(), atom_documents()), _RESPONSES)
def test_plain_documents_read_as_feedparser_reads_them(
    body: bytes, headers: dict[str, str]
) -> None:
    fast = read_plain_feed(body, headers, feedparser_reads)

    assert fast is not None  # every generated document is plain
    assert fast == read_with_feedparser(body, headers)


_PLAIN = b'<rss version="2.0"><channel><item><title>a</title></item></channel></rss>'


@pytest.mark.parametrize(
    ("why", "body", "headers"),
    [
        (
            "a DOCTYPE",
            b'<!DOCTYPE rss><rss version="2.0"><channel><item><title>a</title>'
            b"</item></channel></rss>",
            {},
        ),
        (
            "RSS 0.91",
            b'<rss version="0.91"><channel><item><title>a</title></item></channel></rss>',
            {},
        ),
        (
            "not well-formed",
            b'<rss version="2.0"><channel><item><title>a &amp b</title></item></channel></rss>',
            {},
        ),
        (
            "a charset in HTTP",
            b'<rss version="2.0"><channel><item><title>a</title></item></channel></rss>',
            {"Content-Type": "application/rss+xml; charset=iso-8859-1"},
        ),
        (
            "media:title, which feedparser reads as the title",
            b'<rss version="2.0" '
            b'xmlns:media="http://search.yahoo.com/mrss/"><channel><item><title>a</title>'
            b"<media:title>b</media:title></item></channel></rss>",
            {},
        ),
        (
            "markup inside a field",
            b'<rss version="2.0"><channel><item><title>a <b>b</b></title></item></channel></rss>',
            {},
        ),
        (
            "an unknown element feedparser reads (updated)",
            b'<rss version="2.0"><channel><item>'
            b"<title>a</title><updated>2024-01-01T00:00:00Z</updated></item></channel></rss>",
            {},
        ),
        (
            "XHTML content",
            b'<feed xmlns="http://www.w3.org/2005/Atom"><entry><content '
            b'type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">a</div></content></entry>'
            b"</feed>",
            {},
        ),
        (
            "xml:base",
            b'<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://ex.org/">'
            b'<entry><link href="a"/></entry></feed>',
            {},
        ),
        (
            "cp1252 read as latin-1",
            '<rss version="2.0"><channel><item><title>don\x92t</title>'
            "</item></channel></rss>".encode(),
            {},
        ),
        (
            "a date feedparser repairs",
            b'<rss version="2.0"><channel><item><title>a</title>'
            b"<pubDate>2024-01-01T10:00:00Z</pubDate></item></channel></rss>",
            {},
        ),
        ("no entries", b'<rss version="2.0"><channel><title>a</title></channel></rss>', {}),
        ("served as HTML", _PLAIN, {"content-type": "text/html; charset=utf-8"}),
        ("a response without a content type", _PLAIN, {"content-language": "en"}),
        (
            "text/xml without a charset means US-ASCII",
            _PLAIN.replace(b"a<", "é<".encode()),
            {"content-type": "text/xml"},
        ),
        (
            "a base address from HTTP",
            _PLAIN,
            {"content-type": "application/xml", "content-location": "https://ex.org/"},
        ),
        ("UTF-16", _PLAIN.decode().encode("utf-16"), {}),
    ],
)
def test_other_documents_go_to_feedparser(why: str, body: bytes, headers: dict[str, str]) -> None:
    assert read_plain_feed(body, headers, feedparser_reads) is None, why


def test_the_plain_document_alone_is_read_by_the_fast_path() -> None:
    headers = {"content-type": "text/xml"}
    assert read_plain_feed(_PLAIN, headers, feedparser_reads) == read_with_feedparser(
        _PLAIN, headers
    )


def test_parse_feed_reads_the_declined_documents_with_feedparser() -> None:
    body = (
        b'<rss version="2.0"><channel><item><title>a</title><pubDate>2024-01-01T10:00:00Z'
        b"</pubDate></item></channel></rss>"
    )

    [entry] = parse_feed(body).entries

    assert entry.published == datetime(2024, 1, 1, 10, tzinfo=UTC)  # feedparser's ISO reading
