"""Feed documents (bytes) to entries: the fixtures in tests/data/feeds, one behaviour each."""

from __future__ import annotations

import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.errors import ParseError
from monitor.ingest.parse import parse_feed
from monitor.model import ParsedFeed
from tests.feedserver import FeedServer

FEEDS = Path(__file__).parent / "data" / "feeds"


def _feed(name: str, headers: dict[str, str] | None = None) -> ParsedFeed:
    return parse_feed((FEEDS / name).read_bytes(), headers)


def _refusal(body: bytes) -> ParseError:
    with pytest.raises(ParseError) as caught:
        parse_feed(body)
    return caught.value


# --- well-formed feeds ---------------------------------------------------------------------


def test_rss_entries_come_out_in_document_order() -> None:
    feed = _feed("basic.xml")

    assert feed.version == "rss20"
    assert feed.title == "Example Wire: World, Weather & Sport"
    assert feed.language == "en"
    assert feed.bozo is None
    assert [e.title for e in feed.entries] == [
        "Valmora and Estrel sign fisheries accord after all-night talks",
        "Storm warning lifted for the upper Tarn valleys",
        "Harbour City edge Northgate 2-1 to reach the cup final",
    ]


def test_rss_entry_fields_are_read_as_written() -> None:
    first = _feed("basic.xml").entries[0]

    assert first.guid == "ew-world-20240514-001"
    assert first.link == (
        "https://news.example.com/world/valmora-estrel-accord?utm_source=rss&utm_medium=feed&id=7"
    )
    assert first.author == "Desk editor"
    assert first.tags == ("Diplomacy",)
    assert first.date_text == "Tue, 14 May 2024 06:45:00 GMT"
    assert first.summary_html is not None
    assert "Negotiators from" in first.summary_html
    assert "<script>" in first.summary_html  # raw HTML: cleaning is normalize's job


@pytest.mark.parametrize(
    ("index", "published"),
    [
        (0, datetime(2024, 5, 14, 6, 45, tzinfo=UTC)),
        (1, datetime(2024, 5, 14, 9, 10, tzinfo=UTC)),  # written as 11:10 +0200
        (2, datetime(2024, 5, 13, 21, 30, tzinfo=UTC)),
    ],
)
def test_rss_dates_are_aware_utc(index: int, published: datetime) -> None:
    entry = _feed("basic.xml").entries[index]

    assert entry.published == published
    assert entry.published is not None
    assert entry.published.utcoffset() == timedelta(0)


def test_rss_guid_that_is_a_permalink_is_still_the_guid() -> None:
    second = _feed("basic.xml").entries[1]

    assert second.guid == "https://news.example.com/weather/tarn-warning-lifted"
    assert second.link == "https://news.example.com/weather/tarn-warning-lifted"


def test_atom_entries_with_ids_links_and_published_dates() -> None:
    feed = _feed("basic-atom.xml")

    assert feed.version == "atom10"
    assert feed.title == "Example Wire (Atom edition)"
    assert [(e.guid, e.link, e.published) for e in feed.entries] == [
        (
            "tag:news.example.com,2024:world/korvath-summit",
            "https://news.example.com/world/korvath-summit",
            datetime(2024, 5, 14, 7, 0, tzinfo=UTC),  # <published>, not <updated>
        ),
        (
            "tag:news.example.com,2024:weather/southern-heat",
            "https://news.example.com/weather/southern-heat",
            datetime(2024, 5, 13, 15, 20, tzinfo=UTC),
        ),
        (
            "tag:news.example.com,2024:sport/river-trophy",
            "https://news.example.com/sport/river-trophy",
            datetime(2024, 5, 12, 18, 5, tzinfo=UTC),
        ),
    ]


def test_atom_language_comes_from_xml_lang() -> None:
    feed = _feed("basic-atom.xml")

    assert feed.language == "en"
    assert [e.language for e in feed.entries] == ["en", "en", "en"]


def test_atom_summary_and_content_are_both_kept() -> None:
    first = _feed("basic-atom.xml").entries[0]

    assert first.summary_html is not None
    assert "Ministers left the lakeside venue early" in first.summary_html
    assert first.content_html is not None
    assert "river transit fees" in first.content_html


def test_feed_with_zero_items_parses_to_zero_entries() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        b"<title>Quiet desk</title><link>https://quiet.example.org/</link>"
        b"<description>Nothing new today.</description></channel></rss>"
    )

    feed = parse_feed(body)

    assert feed.entries == ()
    assert feed.title == "Quiet desk"
    assert feed.version == "rss20"
    assert feed.bozo is None


def test_atom_feed_with_zero_entries_parses_to_zero_entries() -> None:
    body = (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Empty atom</title>'
        b"<id>urn:x</id><updated>2024-05-14T10:00:00Z</updated></feed>"
    )

    feed = parse_feed(body)

    assert feed.entries == ()
    assert feed.title == "Empty atom"


def test_entries_without_identifiers_are_still_entries() -> None:
    feed = _feed("nokeys.xml")

    assert len(feed.entries) == 4
    assert all(e.guid is None and e.link is None and e.published is None for e in feed.entries)
    assert feed.entries[3].title == "Frost expected overnight in the hills"
    assert feed.entries[3].summary_html is None


def test_unparseable_date_keeps_the_text_and_no_datetime() -> None:
    garbled = _feed("future-date.xml").entries[1]

    assert garbled.published is None
    assert garbled.date_text == "sometime after the thaw, probably a Tuesday"


# --- encodings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "application/xml"},
        {"content-type": "application/rss+xml"},
        {"content-type": "text/xml"},
        None,
    ],
)
def test_windows_1251_feed_yields_readable_cyrillic(headers: dict[str, str] | None) -> None:
    feed = _feed("cp1251.xml", headers)

    assert feed.title == "Вестник Северной долины"
    assert [e.title for e in feed.entries] == [
        "Послы двух стран обсудили новый торговый маршрут",
        "Синоптики обещают тёплые выходные",
        "«Речники» выиграли домашний матч со счётом 3:0",
    ]


def test_latin1_bytes_declared_as_utf8_keep_their_accents() -> None:
    # Given a document that says UTF-8 but holds ISO-8859-1 bytes (é is a lone 0xE9)
    feed = _feed("latin1-as-utf8.xml", {"content-type": "application/xml"})

    # Then its entries are still there, accents intact, and the mislabelling is noted
    assert [e.title for e in feed.entries] == [
        "Météo : journée ensoleillée prévue à Valbrune",
        "Délégués réunis à Genève pour un accord sur l'eau",
    ]
    assert feed.entries[1].summary_html == (
        "Les négociations reprendront lundi, a précisé le médiateur."
    )
    assert feed.bozo is not None


def test_multilingual_utf8_feed_is_read_verbatim() -> None:
    feed = _feed("multilang.xml")

    assert feed.language == "ko"
    assert [e.title for e in feed.entries] == [
        "두 나라 외교관들이 새 협정에 서명했다",
        "北方地区明天有大风降温",
        "港町チームが延長戦の末に勝利",
        "Делегации согласовали повестку встречи",
    ]


# --- broken documents ----------------------------------------------------------------------


def test_malformed_feed_still_gives_its_complete_entries_with_bozo_text() -> None:
    feed = _feed("malformed.xml")

    assert [e.guid for e in feed.entries] == ["regional-1001", "regional-1002"]
    assert feed.entries[1].title == "Wind & rain warning for the coast"
    assert feed.bozo is not None
    assert "not well-formed" in feed.bozo


@pytest.mark.parametrize(
    ("fixture", "kind"),
    [
        ("broken.xml", "malformed"),
        ("html-page.xml", "not-a-feed"),
        ("empty.xml", "empty"),
        ("entity-bomb.xml", "entities"),
        ("xxe.xml", "entities"),
    ],
)
def test_unusable_documents_are_refused_with_a_stable_kind(fixture: str, kind: str) -> None:
    error = _refusal((FEEDS / fixture).read_bytes())

    assert error.kind == kind
    assert str(error)


@pytest.mark.parametrize("body", [b"", b"   \n\t  ", b"\r\n"])
def test_blank_bodies_are_empty(body: bytes) -> None:
    assert _refusal(body).kind == "empty"


def test_plain_text_is_not_taken_for_a_feed() -> None:
    error = _refusal(b"Service temporarily unavailable, please try again later.\n")

    assert error.kind in {"not-a-feed", "malformed"}


def test_well_formed_xml_that_is_not_a_feed_is_not_a_feed() -> None:
    error = _refusal(b'<?xml version="1.0"?>\n<error><code>429</code>quota exceeded</error>')

    assert error.kind == "not-a-feed"


def test_html_page_error_says_it_is_html() -> None:
    error = _refusal((FEEDS / "html-page.xml").read_bytes())

    assert "HTML" in str(error)


@pytest.mark.parametrize("fixture", ["entity-bomb.xml", "xxe.xml"])
def test_entity_declarations_are_refused_quickly_without_memory_growth(fixture: str) -> None:
    body = (FEEDS / fixture).read_bytes()

    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(ParseError) as caught:
            parse_feed(body)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert caught.value.kind == "entities"
    assert elapsed < 0.5
    assert peak < 20 * len(body) + 1_000_000


def test_xxe_never_shows_local_file_content() -> None:
    error = _refusal((FEEDS / "xxe.xml").read_bytes())

    assert "root:" not in str(error)


_ENTITY_DOC = (
    '<?xml version="1.0" encoding="{enc}"?>\n'
    '<!DOCTYPE rss [<!ENTITY who "Estrel">]>\n'
    '<rss version="2.0"><channel><title>t</title>'
    "<item><title>Hello &who;</title><guid>g1</guid></item></channel></rss>\n"
)


@pytest.mark.parametrize(
    ("encoding", "declared"),
    [
        ("utf-16", "utf-16"),  # with a byte-order mark
        ("utf-16-le", "utf-16"),  # no BOM, little endian
        ("utf-16-be", "utf-16"),  # no BOM, big endian
        ("utf-8-sig", "utf-8"),  # UTF-8 with a BOM
        ("utf-8", "utf-8"),
    ],
)
def test_entity_declarations_are_refused_in_any_encoding(encoding: str, declared: str) -> None:
    body = _ENTITY_DOC.format(enc=declared).encode(encoding)

    assert _refusal(body).kind == "entities"


@pytest.mark.parametrize(
    "doctype",
    [
        '<!doctype rss [<!entity who "Estrel">]>',  # lower case
        '<!DOCTYPE rss [<!ENTITY\twho "Estrel">]>',  # tab after ENTITY
        '<!DOCTYPE rss [<!ENTITY % p "x">]>',  # parameter entity
        '<!DOCTYPE rss [\n  <!ELEMENT rss ANY>\n  <!ENTITY who "Estrel">\n]>',
    ],
)
def test_entity_declarations_are_refused_however_written(doctype: str) -> None:
    body = (
        '<?xml version="1.0"?>\n' + doctype + '\n<rss version="2.0"><channel><title>t</title>'
        "<item><title>Hello</title><guid>g1</guid></item></channel></rss>"
    ).encode()

    assert _refusal(body).kind == "entities"


def test_external_dtd_without_entities_is_parsed_without_fetching_it(
    feed_server: FeedServer,
) -> None:
    # Given a feed whose DOCTYPE points at a DTD on a live local server
    template = (FEEDS / "external-dtd.xml").read_bytes()
    body = template.replace(b"{PORT}", str(feed_server.port).encode())
    fetched_before = feed_server.hits("/dtd/evil.dtd")

    # When it is parsed
    feed = parse_feed(body)

    # Then its entries are read and the DTD was never requested
    assert [e.guid for e in feed.entries] == ["dtd-1", "dtd-2"]
    assert feed_server.hits("/dtd/evil.dtd") == fetched_before


def test_utf16_feed_without_entities_is_parsed() -> None:
    body = (
        '<?xml version="1.0" encoding="utf-16"?>\n<rss version="2.0"><channel><title>t</title>'
        "<item><title>Ünïcode façade</title><guid>g1</guid></item></channel></rss>\n"
    ).encode("utf-16")

    feed = parse_feed(body)

    assert [e.title for e in feed.entries] == ["Ünïcode façade"]


def test_entities_declared_after_a_long_prolog_are_still_refused() -> None:
    padding = b"<!-- " + b"x" * 200_000 + b" -->\n"
    body = (
        b'<?xml version="1.0"?>\n'
        + padding
        + b'<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">]><rss version="2.0"><channel>'
        b"<item><title>&a;</title></item></channel></rss>"
    )

    with pytest.raises(ParseError) as caught:
        parse_feed(body)

    assert caught.value.kind == "entities"


def test_a_plain_text_body_is_not_a_feed() -> None:
    with pytest.raises(ParseError, match="not XML") as caught:
        parse_feed(b"Service temporarily unavailable, please try later.\n")

    assert caught.value.kind == "not-a-feed"
