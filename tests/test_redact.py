"""URLs shown in logs and on the terminal: secrets hidden, everything else as configured."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.redact import HIDDEN, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://reader:hunter2@feeds.example.com/private.xml",
            "https://reader:***@feeds.example.com/private.xml",
        ),
        (
            "postgresql://monitor:s3cret@db:5432/monitor",
            "postgresql://monitor:***@db:5432/monitor",
        ),
        ("https://ghp_abc123@feeds.example.com/x", "https://***@feeds.example.com/x"),
        ("https://u:p@ss@feeds.example.com/x", "https://u:***@feeds.example.com/x"),
        ("https://u:pw@[::1]:8080/x", "https://u:***@[::1]:8080/x"),
    ],
)
def test_passwords_in_userinfo_are_hidden(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://feeds.example.com/rss?token=abc123&page=2",
            "https://feeds.example.com/rss?token=***&page=2",
        ),
        (
            "https://api.example.com/v1/feed?api_key=K3Y&lang=en&client_secret=S3C",
            "https://api.example.com/v1/feed?api_key=***&lang=en&client_secret=***",
        ),
        (
            "https://feeds.example.com/rss?access_token=abc#latest",
            "https://feeds.example.com/rss?access_token=***#latest",
        ),
        ("https://feeds.example.com/rss?Token=AbC", "https://feeds.example.com/rss?Token=***"),
        ("https://feeds.example.com/rss?key=", "https://feeds.example.com/rss?key=***"),
        (
            "https://hooks.example.com/send?sig=xyz&password=pw",
            "https://hooks.example.com/send?sig=***&password=***",
        ),
    ],
)
def test_secret_query_values_are_hidden(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    "url",
    [
        "https://news.example.com/world/rss.xml",
        "https://news.example.com/rss?page=2&lang=en",
        "https://news.example.com/rss?id=7#top",
        "http://127.0.0.1:8080/feeds/basic.xml",
        "https://reader@news.example.com:8443/rss",
        "https://news.example.com/search?q=hello%20world&lang=en",
        "https://news.example.com/rss?full",
        "sqlite:///data/monitor.db",
        "sqlite:////var/lib/monitor/monitor.db",
        "postgresql:///monitor?host=/run/postgresql",
    ],
)
def test_urls_without_secrets_are_shown_unchanged(url: str) -> None:
    expected = url
    if "@" in url:  # a bare user name may itself be a token: it is hidden, the rest kept
        expected = url.replace("reader@", "***@")

    assert redact_url(url) == expected


@pytest.mark.parametrize(
    "name",
    [
        "accessToken",
        "authToken",
        "apiToken",
        "apiKey",
        "APIKey",
        "X-AuthToken",
        "clientSecret",
        "refreshToken",
        "accesstoken",
        "authtoken",
        "apitoken",
    ],
)
def test_camel_case_and_one_word_secret_names_are_hidden(name: str) -> None:
    url = f"https://feeds.example.com/rss?page=2&{name}=s3cr3tValue&lang=en"

    assert redact_url(url) == f"https://feeds.example.com/rss?page=2&{name}=***&lang=en"


@pytest.mark.parametrize("name", ["pageSize", "itemId", "maxItems", "sortBy", "HTMLFormat"])
def test_camel_case_names_without_a_secret_word_are_kept(name: str) -> None:
    url = f"https://feeds.example.com/rss?{name}=10"

    assert redact_url(url) == url


def test_secrets_are_hidden_even_in_a_malformed_url() -> None:
    assert redact_url("http://[::1/feed?token=abc") == f"http://[::1/feed?token={HIDDEN}"


_SECRET_NAMES = st.sampled_from(
    [
        "token",
        "api_key",
        "apikey",
        "secret",
        "client_secret",
        "access_token",
        "Password",
        "accessToken",
        "authToken",
        "apiToken",
    ]
)
_PLAIN_NAMES = st.sampled_from(["page", "lang", "id", "q", "format", "limit"])
_WORDS = st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True)


@given(
    host=st.from_regex(r"[a-z]{1,10}\.example\.com", fullmatch=True),
    path=_WORDS,
    secret=st.from_regex(r"[A-Za-z0-9]{12,24}", fullmatch=True),
    secret_name=_SECRET_NAMES,
    plain=st.lists(st.tuples(_PLAIN_NAMES, _WORDS), max_size=3),
    password=st.from_regex(r"[A-Za-z0-9]{12,24}", fullmatch=True),
)
def test_secrets_never_survive_and_the_rest_does(
    host: str,
    path: str,
    secret: str,
    secret_name: str,
    plain: list[tuple[str, str]],
    password: str,
) -> None:
    # Given a URL with a password and a secret parameter among ordinary ones
    query = "&".join([f"{k}={v}" for k, v in plain] + [f"{secret_name}={secret}"])
    url = f"https://reader:{password}@{host}/{path}?{query}"

    # When it is redacted
    shown = redact_url(url)

    # Then neither secret is visible, and host, path and ordinary parameters are
    assert secret not in shown
    assert password not in shown
    parts = urlsplit(shown)
    assert parts.hostname == host
    assert parts.username == "reader"
    assert parts.path == f"/{path}"
    for name, value in plain:
        assert f"{name}={value}" in parts.query
    assert f"{secret_name}={HIDDEN}" in parts.query
