"""Fetching against a real HTTP server on 127.0.0.1, hostile endpoints included."""

import asyncio
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.errors import (
    BodyTooLarge,
    FeedGone,
    HTTPStatusError,
    PollTimeout,
    RateLimited,
    TransportError,
)
from monitor.ingest.fetch import Fetcher, parse_retry_after
from monitor.model import FetchResult, Validators
from monitor.settings import HttpSettings
from tests.feedserver import FeedServer, closed_port

NO_VALIDATORS = Validators()


def fetch(url: str, validators: Validators = NO_VALIDATORS, **http: Any) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(HttpSettings(**http)) as fetcher:
            return await fetcher.fetch(url, validators)

    return asyncio.run(go())


def test_first_fetch_returns_body_and_validators(feed_server: FeedServer) -> None:
    result = fetch(feed_server.url("/feeds/basic.xml"))

    assert result.status == 200
    assert result.body is not None and b"<rss" in result.body
    assert result.validators.etag and result.validators.last_modified
    assert result.headers["content-type"].startswith("application/rss+xml")


def test_second_fetch_is_conditional_and_gets_304(feed_server: FeedServer) -> None:
    first = fetch(feed_server.url("/feeds/basic-atom.xml"))

    second = fetch(feed_server.url("/feeds/basic-atom.xml"), first.validators)

    assert second.not_modified and second.status == 304
    sent = [r for r in feed_server.requests if r.path.startswith("/feeds/basic-atom.xml")][-1]
    assert sent.headers.get("If-None-Match") == first.validators.etag
    assert sent.headers.get("If-Modified-Since") == first.validators.last_modified
    assert second.validators == first.validators


def test_sends_a_real_user_agent_and_accepts_gzip(feed_server: FeedServer) -> None:
    result = fetch(feed_server.url("/feeds/basic.xml?ua"), user_agent="monitor-test/1")

    sent = [r for r in feed_server.requests if r.target == "/feeds/basic.xml?ua"][-1]
    assert sent.headers.get("User-Agent") == "monitor-test/1"
    assert "gzip" in (sent.headers.get("Accept-Encoding") or "")
    assert result.body is not None and b"<rss" in result.body  # decoded


def test_body_over_the_cap_is_refused_while_streaming(feed_server: FeedServer) -> None:
    tracemalloc.start()
    with pytest.raises(BodyTooLarge, match="1000000-byte cap"):
        fetch(feed_server.url("/big?mb=50"), max_body=1_000_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert peak < 20_000_000  # the 50 MB body was never held


def test_gzip_bomb_stops_at_the_decoded_cap(feed_server: FeedServer) -> None:
    tracemalloc.start()
    with pytest.raises(BodyTooLarge, match="decoded body"):
        fetch(feed_server.url("/gzip-bomb"), max_body=2_000_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert peak < 20_000_000  # inflated ~200 MB would have shown here


def test_dripping_server_hits_the_total_budget(feed_server: FeedServer) -> None:
    with pytest.raises(PollTimeout, match="1s budget"):
        fetch(feed_server.url("/drip?seconds=20"), total_timeout=timedelta(seconds=1))


def test_silent_server_hits_the_read_timeout(feed_server: FeedServer) -> None:
    with pytest.raises(PollTimeout, match="read timeout"):
        fetch(feed_server.url("/hang"), read_timeout=timedelta(seconds=0.5))


def test_redirect_loop_is_cut_off(feed_server: FeedServer) -> None:
    with pytest.raises(TransportError, match="too many redirects"):
        fetch(feed_server.url("/loop"), max_redirects=3)


def test_redirects_within_the_cap_are_followed(feed_server: FeedServer) -> None:
    result = fetch(feed_server.url("/redirect/2?to=basic.xml"), max_redirects=3)

    assert result.status == 200 and result.url.endswith("/feeds/basic.xml")


@pytest.mark.parametrize(
    ("code", "error"), [(404, HTTPStatusError), (500, HTTPStatusError), (410, FeedGone)]
)
def test_error_statuses_raise_typed_errors(
    feed_server: FeedServer, code: int, error: type[Exception]
) -> None:
    with pytest.raises(error, match=f"HTTP {code}") as caught:
        fetch(feed_server.url(f"/status/{code}"))

    assert getattr(caught.value, "status", None) == code


@pytest.mark.parametrize("code", [429, 503])
def test_rate_limit_carries_retry_after(feed_server: FeedServer, code: int) -> None:
    with pytest.raises(RateLimited) as caught:
        fetch(feed_server.url(f"/status/{code}?retry_after=120"))

    assert caught.value.retry_after == 120 and caught.value.status == code


def test_connection_refused_is_a_network_error() -> None:
    with pytest.raises(TransportError, match="cannot connect"):
        fetch(f"http://127.0.0.1:{closed_port()}/feed.xml")


def test_per_host_limit_serialises_requests_to_one_host(feed_server: FeedServer) -> None:
    async def go() -> None:
        async with Fetcher(HttpSettings(per_host=1)) as fetcher:
            await asyncio.gather(
                fetcher.fetch(feed_server.url("/drip?seconds=0.6&n=a"), Validators()),
                fetcher.fetch(feed_server.url("/drip?seconds=0.6&n=b"), Validators()),
            )

    asyncio.run(go())

    times = sorted(r.time for r in feed_server.requests if r.target.startswith("/drip?seconds=0.6"))
    assert len(times) == 2 and times[1] - times[0] >= 0.5  # the second waited for the first


@pytest.mark.parametrize(
    ("header", "expected"),
    [("120", 120.0), ("Sun, 29 Nov 2026 12:02:00 GMT", 120.0), ("soon", None), (None, None)],
)
def test_retry_after_accepts_seconds_and_dates(header: str | None, expected: float | None) -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)

    assert parse_retry_after(header, now) == expected
