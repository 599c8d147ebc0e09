"""Entries to items: plain text, canonical links, stable keys, trustworthy dates."""

from __future__ import annotations

import unicodedata
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from monitor.ingest.normalize import canonical_link, html_to_text, item_key, normalize_entry
from monitor.ingest.parse import parse_feed
from monitor.model import Entry

FEEDS = Path(__file__).parent / "data" / "feeds"
FETCHED = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
FEED_URL = "https://news.example.com/feeds/world.xml"


def _entry(**fields: Any) -> Entry:
    base = Entry(
        guid=None,
        link=None,
        title=None,
        summary_html=None,
        content_html=None,
        author=None,
        published=None,
        date_text=None,
    )
    return replace(base, **fields)


def _items(fixture: str) -> list[str]:
    feed = parse_feed((FEEDS / fixture).read_bytes())
    return [
        normalize_entry(e, feed_url=FEED_URL, feed_language=feed.language, fetched_at=FETCHED).key
        for e in feed.entries
    ]


# --- html_to_text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Ministers <b>met</b> at <a href='/x'>noon</a>.</p>", "Ministers met at noon."),
        ("<div>before<script>alert(1)</script>after</div>", "beforeafter"),
        ("<style>p { color: red }</style><p>Visible</p>", "Visible"),
        ("<p>x</p><template><p>hidden</p></template><p>y</p>", "x\ny"),
        ("<p>One</p><p>Two</p>", "One\nTwo"),
        ("<h2>Head</h2>Body", "Head\nBody"),
        ("first<br>second<br/>third", "first\nsecond\nthird"),
        ("<ul><li>one</li><li>two</li></ul>", "one\ntwo"),
        ("<blockquote>quoted</blockquote>said", "quoted\nsaid"),
        ("<p>a</p>\n\n\n<p>b</p>", "a\nb"),
        ("Tom &amp; Jerry &lt;3 &eacute;t&eacute; &#233; &#x41;", "Tom & Jerry <3 été é A"),
        ("38&#176;C&nbsp;today", "38°C today"),
        ("  lots   of\t\tspace  ", "lots of space"),
        ("", ""),
        ("Just text", "Just text"),
    ],
)
def test_html_to_text_keeps_visible_text_one_line_per_block(html: str, text: str) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("ＡＢＣ放送", "ABC放送"),
        ("ﬁnal", "final"),
        ("Ｈｅｌｌｏ\u3000ｗｏｒｌｄ", "Hello world"),
        ("２５℃", "25°C"),
        ("ｻｯｶｰ", "サッカー"),
        ("<p>ＡＢＣ &amp; ﬁ</p>", "ABC & fi"),
    ],
)
def test_html_to_text_applies_nfkc(raw: str, text: str) -> None:
    assert html_to_text(raw) == text


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("plain\x00text", "plaintext"),
        ("bell\x07", "bell"),
        ("zero\u200bwidth", "zerowidth"),
        ("<p>in\x01markup</p>", "inmarkup"),
        ("keeps\nnewline", "keeps\nnewline"),
    ],
)
def test_html_to_text_strips_control_characters(raw: str, text: str) -> None:
    assert html_to_text(raw) == text


def test_line_breaks_in_html_source_are_just_spaces() -> None:
    # Given a paragraph wrapped across lines in the HTML source (as in basic.xml)
    html = "<p>Negotiators from\n<a href='/v'>Valmora</a> agreed on shared\nquotas.</p><p>Next</p>"

    # Then it reads as one line per block, as a browser would show it
    assert html_to_text(html) == "Negotiators from Valmora agreed on shared quotas.\nNext"


_TRICKY = st.text(alphabet="eEa ＡﬁＢ\u0301\u0308\x00\x07\u200b\u00ad\u00a0\t\n<>&;/pbr")


@given(st.text() | _TRICKY)
@example("e\x00\u0301")  # a control character between a letter and its accent
def test_html_to_text_output_is_clean_nfkc_text(raw: str) -> None:
    text = html_to_text(raw)

    assert unicodedata.is_normalized("NFKC", text)
    # no control, surrogate or private-use characters; format characters such as ZWJ and
    # code points newer than this Python's Unicode tables may stay
    assert all(ch == "\n" or unicodedata.category(ch) not in ("Cc", "Cs", "Co") for ch in text)
    assert text == text.strip()
    assert "\n\n" not in text
    assert "  " not in text


# --- canonical_link ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("link", "canonical"),
    [
        (
            "https://news.example.com/a?utm_source=rss&id=7&utm_medium=feed",
            "https://news.example.com/a?id=7",
        ),
        ("https://x.example/p?fbclid=IwAR0abc&gclid=Cj0K&q=korea", "https://x.example/p?q=korea"),
        ("https://x.example/p?UTM_Campaign=spring&page=2", "https://x.example/p?page=2"),
        ("https://x.example/p#comments", "https://x.example/p"),
        ("https://x.example:443/p", "https://x.example/p"),
        ("http://x.example:80/p", "http://x.example/p"),
        ("https://x.example:8443/p", "https://x.example:8443/p"),
        ("HTTPS://News.Example.COM/Path", "https://news.example.com/Path"),
        ("https://x.example", "https://x.example/"),
        ("https://x.example/p?b=2&a=1&c=3", "https://x.example/p?b=2&a=1&c=3"),
        ("https://x.example/p?tag=a&tag=b", "https://x.example/p?tag=a&tag=b"),
        ("  https://x.example/p  ", "https://x.example/p"),
        ("https://reader:secret@x.example/p", "https://x.example/p"),
    ],
)
def test_canonical_link_drops_tracking_fragment_and_default_port(link: str, canonical: str) -> None:
    assert canonical_link(link, FEED_URL) == canonical


@pytest.mark.parametrize(
    ("link", "canonical"),
    [
        ("/world/accord?id=7", "https://news.example.com/world/accord?id=7"),
        ("accord.html", "https://news.example.com/feeds/accord.html"),
        ("../sport/cup", "https://news.example.com/sport/cup"),
        ("//cdn.example.net/story", "https://cdn.example.net/story"),
        ("?page=2", "https://news.example.com/feeds/world.xml?page=2"),
    ],
)
def test_canonical_link_resolves_relative_links_against_the_feed(link: str, canonical: str) -> None:
    assert canonical_link(link, FEED_URL) == canonical


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        "JavaScript:void(0)",
        "mailto:desk@news.example.com",
        "ftp://files.example.com/story.txt",
        "data:text/html,<p>hi</p>",
        "https://x.example:99999/",
    ],
)
def test_canonical_link_is_none_for_links_that_are_not_web_pages(link: str) -> None:
    assert canonical_link(link, FEED_URL) is None


_SEGMENTS = st.from_regex(r"[a-z0-9_.-]{1,8}", fullmatch=True)
_PARAM_NAMES = st.from_regex(r"[a-z]{1,6}", fullmatch=True).filter(
    lambda k: k not in {"rss", "spm", "ito", "ocid"}
)
_TRACKING = st.sampled_from(["utm_source", "utm_medium", "utm_campaign", "fbclid", "gclid"])
_VALUES = st.from_regex(r"[a-z0-9]{0,6}", fullmatch=True)


@given(
    host=st.from_regex(r"[a-z]{1,10}\.example", fullmatch=True),
    path=st.lists(_SEGMENTS, max_size=4),
    params=st.lists(st.tuples(_PARAM_NAMES, _VALUES), max_size=5),
    tracking=st.lists(st.tuples(_TRACKING, _VALUES), max_size=3),
    fragment=st.from_regex(r"[a-z0-9]{0,6}", fullmatch=True),
)
def test_canonical_link_keeps_real_parameters_in_order_and_is_idempotent(
    host: str,
    path: list[str],
    params: list[tuple[str, str]],
    tracking: list[tuple[str, str]],
    fragment: str,
) -> None:
    # Given a link whose query mixes real and tracking parameters
    query = urlencode(tracking[:1] + params + tracking[1:])
    link = f"https://{host}/{'/'.join(path)}?{query}#{fragment}"

    # When it is made canonical
    canonical = canonical_link(link, FEED_URL)

    # Then the real parameters remain, in order, and nothing else changes on a second pass
    assert canonical is not None
    parts = urlsplit(canonical)
    assert parts.hostname == host
    assert parts.fragment == ""
    assert parse_qsl(parts.query, keep_blank_values=True) == params
    assert canonical_link(canonical, FEED_URL) == canonical


# --- item_key ------------------------------------------------------------------------------


def test_guid_wins_over_link_and_title() -> None:
    by_guid = item_key("ew-001", "https://x.example/a", "Title", "Mon, 1 Jan 2024", "text")

    assert by_guid == item_key("ew-001", "https://x.example/other", "Other", "", "")
    assert by_guid != item_key("ew-002", "https://x.example/a", "Title", "Mon, 1 Jan 2024", "text")


def test_link_wins_over_title_and_date() -> None:
    by_link = item_key(None, "https://x.example/a", "Title", "Mon, 1 Jan 2024", "text")

    assert by_link == item_key(None, "https://x.example/a", "Changed title", "Tue", "new text")
    assert by_link != item_key(None, "https://x.example/b", "Title", "Mon, 1 Jan 2024", "text")


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_blank_guid_counts_as_no_guid(blank: str) -> None:
    assert item_key(blank, "https://x.example/a", "T", "", "") == item_key(
        None, "https://x.example/a", "T", "", ""
    )


def test_title_and_date_key_the_entry_when_there_is_no_guid_or_link() -> None:
    key = item_key(None, None, "Ferry services resume", "Mon, 1 Jan 2024", "text")

    assert key == item_key(None, None, "Ferry services resume", "Mon, 1 Jan 2024", "other text")
    assert key != item_key(None, None, "Ferry services resume", "Tue, 2 Jan 2024", "text")
    assert key != item_key(None, None, "Ferry services halted", "Mon, 1 Jan 2024", "text")


def test_text_stands_in_for_a_missing_date() -> None:
    key = item_key(None, None, "Ferry services resume", "", "Crossings restart at noon.")

    assert key != item_key(None, None, "Ferry services resume", "", "Crossings cancelled.")


def test_keys_of_different_kinds_never_collide() -> None:
    # a guid that happens to equal a link is still a different basis than that link
    assert item_key("https://x.example/a", None, "", "", "") != item_key(
        None, "https://x.example/a", "", "", ""
    )


_WORDS = st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzéàüößжщя", min_size=1), min_size=1)
_GAPS = st.sampled_from([" ", "  ", "\t", "\n", " \u00a0 "])


@given(
    words=_WORDS,
    gaps=st.lists(_GAPS, min_size=1),
    upper=st.lists(st.booleans(), min_size=1),
    date=st.text(max_size=30),
    text=st.text(max_size=30),
)
def test_title_key_ignores_case_and_whitespace_noise(
    words: list[str], gaps: list[str], upper: list[bool], date: str, text: str
) -> None:
    # Given the same title written with different case and spacing
    clean = " ".join(words)
    noisy = "  ".join(
        (w.upper() if upper[i % len(upper)] else w) + gaps[i % len(gaps)]
        for i, w in enumerate(words)
    )

    # Then it keys the same entry
    assert item_key(None, None, noisy, date, text) == item_key(None, None, clean, date, text)


@given(
    guid=st.none() | st.text(max_size=20),
    link=st.none() | st.text(max_size=20),
    title=st.text(max_size=20),
    date=st.text(max_size=20),
    text=st.text(max_size=20),
)
def test_item_key_is_a_stable_hex_digest(
    guid: str | None, link: str | None, title: str, date: str, text: str
) -> None:
    key = item_key(guid, link, title, date, text)

    assert key == item_key(guid, link, title, date, text)
    assert len(key) == 64
    assert int(key, 16) >= 0


@given(
    first=st.text(min_size=1, max_size=20).filter(str.strip),
    second=st.text(min_size=1, max_size=20).filter(str.strip),
)
def test_different_guids_give_different_keys(first: str, second: str) -> None:
    assume(first.strip() != second.strip())

    assert item_key(first, None, "", "", "") != item_key(second, None, "", "", "")


@given(
    guid=st.text(min_size=1, max_size=20).filter(str.strip), pad=st.sampled_from(["", " ", "\n"])
)
def test_whitespace_around_a_guid_does_not_change_the_key(guid: str, pad: str) -> None:
    assert item_key(pad + guid + pad, None, "", "", "") == item_key(guid, None, "", "", "")


# --- normalize_entry -----------------------------------------------------------------------


def test_entry_is_cleaned_into_an_item() -> None:
    entry = _entry(
        guid="ew-1",
        link="/world/accord?utm_source=rss&id=7#top",
        title="Valmora &amp; Estrel <b>sign</b> accord",
        summary_html="<p>Quotas agreed.</p><script>x()</script><p>Ratification next.</p>",
        author="Ｄｅｓｋ",
        published=datetime(2024, 5, 14, 6, 45, tzinfo=UTC),
        date_text="Tue, 14 May 2024 06:45:00 GMT",
        tags=("Diplomacy", "ＥＵ"),
    )

    item = normalize_entry(entry, feed_url=FEED_URL, feed_language="en", fetched_at=FETCHED)

    assert item.title == "Valmora & Estrel sign accord"
    assert item.summary == "Quotas agreed.\nRatification next."
    assert item.link == "https://news.example.com/world/accord?id=7"
    assert item.author == "Desk"
    assert item.tags == ("Diplomacy", "EU")
    assert item.published_at == datetime(2024, 5, 14, 6, 45, tzinfo=UTC)
    assert item.date_source == "feed"
    assert item.language == "en"
    assert item.key == item_key("ew-1", item.link, item.title, entry.date_text or "", "")


def test_content_stands_in_for_a_missing_summary() -> None:
    entry = _entry(guid="g", title="t", content_html="<p>Full <i>story</i></p>")

    item = normalize_entry(entry, feed_url=FEED_URL, feed_language=None, fetched_at=FETCHED)

    assert item.summary == "Full story"


def test_entry_language_wins_over_the_feed_language() -> None:
    entry = _entry(guid="g", title="t", language="ko")

    item = normalize_entry(entry, feed_url=FEED_URL, feed_language="en", fetched_at=FETCHED)

    assert item.language == "ko"


def test_missing_date_is_replaced_by_the_fetch_time() -> None:
    item = normalize_entry(
        _entry(guid="g", title="t"), feed_url=FEED_URL, feed_language=None, fetched_at=FETCHED
    )

    assert item.published_at == FETCHED
    assert item.date_source == "fetched"


@pytest.mark.parametrize(
    ("published", "expected", "source"),
    [
        (datetime(2099, 1, 1, 9, 0, tzinfo=UTC), FETCHED, "clamped"),
        (FETCHED + timedelta(hours=2), FETCHED, "clamped"),
        (FETCHED + timedelta(minutes=30), FETCHED + timedelta(minutes=30), "feed"),
        (FETCHED - timedelta(days=3), FETCHED - timedelta(days=3), "feed"),
    ],
)
def test_dates_in_the_future_are_clamped_to_the_fetch_time(
    published: datetime, expected: datetime, source: str
) -> None:
    entry = _entry(guid="g", title="t", published=published)

    item = normalize_entry(entry, feed_url=FEED_URL, feed_language=None, fetched_at=FETCHED)

    assert (item.published_at, item.date_source) == (expected, source)


def test_future_date_fixture_is_clamped_and_garbled_date_is_fetched() -> None:
    feed = parse_feed((FEEDS / "future-date.xml").read_bytes())

    items = [
        normalize_entry(e, feed_url=FEED_URL, feed_language=None, fetched_at=FETCHED)
        for e in feed.entries
    ]

    assert [(i.published_at, i.date_source) for i in items] == [
        (FETCHED, "clamped"),
        (FETCHED, "fetched"),
    ]


def test_items_without_identifiers_get_distinct_keys_that_survive_a_reparse() -> None:
    first = _items("nokeys.xml")

    assert len(first) == 4
    assert len(set(first)) == 4
    assert _items("nokeys.xml") == first


def test_item_keys_survive_tracking_parameter_changes() -> None:
    with_utm = _entry(link="https://x.example/a?id=7&utm_source=rss", title="T")
    with_fbclid = _entry(link="https://x.example/a?fbclid=abc&id=7#c", title="T (updated)")

    keys = {
        normalize_entry(e, feed_url=FEED_URL, feed_language=None, fetched_at=FETCHED).key
        for e in (with_utm, with_fbclid)
    }

    assert len(keys) == 1


def test_item_keys_survive_markup_and_spacing_changes_in_the_title() -> None:
    plain = _entry(title="Ferry services resume", date_text="Mon, 13 May 2024")
    marked = _entry(title="<b>Ferry</b>  SERVICES&nbsp;resume ", date_text="Mon, 13 May 2024")

    keys = {
        normalize_entry(e, feed_url=FEED_URL, feed_language=None, fetched_at=FETCHED).key
        for e in (plain, marked)
    }

    assert len(keys) == 1


def test_fixture_keys_are_the_guids_and_stable() -> None:
    keys = _items("basic.xml")

    assert len(set(keys)) == 3
    assert keys[0] == item_key("ew-world-20240514-001", None, "", "", "")
    assert _items("basic.xml") == keys


def test_missing_title_becomes_the_first_line_of_the_summary() -> None:
    entry = _entry(guid="g", summary_html="<p>Forty monitors will visit.</p><p>More later.</p>")

    item = normalize_entry(entry, feed_url=FEED_URL, feed_language=None, fetched_at=FETCHED)

    assert item.title == "Forty monitors will visit."


def test_long_summary_gives_a_shortened_title() -> None:
    summary = "Observers " + "from many countries " * 10 + "arrived."
    entry = _entry(guid="g", summary_html=summary)

    item = normalize_entry(entry, feed_url=FEED_URL, feed_language=None, fetched_at=FETCHED)

    assert len(item.title) <= 80
    assert item.title.endswith("…")
    assert summary.startswith(item.title.removesuffix("…"))
    assert item.summary == summary


def test_the_unprintable_class_is_exactly_control_surrogate_and_private_use_but_space() -> None:
    import sys
    import unicodedata

    from monitor.ingest.normalize import _UNPRINTABLE

    wrong = [
        code
        for code in range(sys.maxunicode + 1)
        if bool(_UNPRINTABLE.match(chr(code)))
        != (unicodedata.category(chr(code)) in ("Cc", "Cs", "Co") and not chr(code).isspace())
    ]

    assert wrong == []
