"""Quick checks of the local feed server used by the rest of the suite."""

from __future__ import annotations

import gzip
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.feedserver import BOMB_INFLATED_SIZE, FeedServer, closed_port

FEEDS = Path(__file__).parent / "data" / "feeds"


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with FeedServer(FEEDS) as srv:
        yield srv


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0) as c:
        yield c


def _wait(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return bool(predicate())


def test_etag_and_last_modified_round_trip(server: FeedServer, client: httpx.Client) -> None:
    url = server.url("/feeds/basic.xml")
    first = client.get(url)
    assert first.status_code == 200
    assert first.content == (FEEDS / "basic.xml").read_bytes()
    etag = first.headers["etag"]
    last_modified = first.headers["last-modified"]
    assert etag.startswith('"') and etag.endswith('"')

    by_etag = client.get(url, headers={"If-None-Match": etag})
    assert by_etag.status_code == 304
    assert by_etag.content == b""
    assert by_etag.headers["etag"] == etag

    by_date = client.get(url, headers={"If-Modified-Since": last_modified})
    assert by_date.status_code == 304

    stale = client.get(url, headers={"If-None-Match": '"something-else"'})
    assert stale.status_code == 200
    assert server.hits("/feeds/basic.xml") == 4
    assert [r.headers.get("IF-NONE-MATCH") for r in server.requests] == [
        None,
        etag,
        None,
        '"something-else"',
    ]


def test_set_feed_changes_validators(server: FeedServer, client: httpx.Client) -> None:
    server.set_feed("dyn.xml", b"<rss><channel><title>one</title></channel></rss>")
    one = client.get(server.url("/feeds/dyn.xml"))
    server.set_feed("dyn.xml", b"<rss><channel><title>two</title></channel></rss>")
    two = client.get(server.url("/feeds/dyn.xml"), headers={"If-None-Match": one.headers["etag"]})
    assert two.status_code == 200
    assert b"two" in two.content
    assert two.headers["etag"] != one.headers["etag"]
    assert two.headers["last-modified"] != one.headers["last-modified"]
    again = client.get(server.url("/feeds/dyn.xml"), headers={"If-None-Match": two.headers["etag"]})
    assert again.status_code == 304


def test_plain_has_no_validators(server: FeedServer, client: httpx.Client) -> None:
    resp = client.get(server.url("/plain/basic.xml"), headers={"If-None-Match": "*"})
    assert resp.status_code == 200
    assert "etag" not in resp.headers
    assert "last-modified" not in resp.headers
    assert resp.content == (FEEDS / "basic.xml").read_bytes()


def test_content_type_rules(server: FeedServer, client: httpx.Client) -> None:
    rss = client.get(server.url("/feeds/basic.xml"))
    assert rss.headers["content-type"] == "application/rss+xml; charset=utf-8"
    atom = client.get(server.url("/feeds/basic-atom.xml"))
    assert atom.headers["content-type"] == "application/atom+xml"
    forced = client.get(server.url("/feeds/cp1251.xml?ct=application/xml"))
    assert forced.headers["content-type"] == "application/xml"
    assert forced.content == (FEEDS / "cp1251.xml").read_bytes()
    none = client.get(server.url("/feeds/basic.xml?ct="))
    assert "content-type" not in none.headers
    assert client.get(server.url("/feeds/../pyproject.toml")).status_code == 404
    assert client.get(server.url("/feeds/missing.xml")).status_code == 404


def test_gzip_only_on_request(server: FeedServer, client: httpx.Client) -> None:
    original = (FEEDS / "multilang.xml").read_bytes()
    zipped = client.get(server.url("/feeds/multilang.xml"), headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == original  # httpx decodes transparently
    assert int(zipped.headers["content-length"]) == len(gzip.compress(original, mtime=0))
    plain = client.get(server.url("/feeds/multilang.xml"), headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == original


def test_status_and_retry_after(server: FeedServer, client: httpx.Client) -> None:
    limited = client.get(server.url("/status/429?retry_after=7"))
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "7"
    assert limited.headers["content-type"].startswith("text/html")
    unavailable = client.get(server.url("/status/503?retry_after=120"))
    assert unavailable.status_code == 503
    assert unavailable.headers["retry-after"] == "120"
    broken = client.get(server.url("/status/500?retry_after=5"))
    assert broken.status_code == 500
    assert "retry-after" not in broken.headers


def test_redirect_chain(server: FeedServer, client: httpx.Client) -> None:
    resp = client.get(server.url("/redirect/2"), follow_redirects=True)
    assert resp.status_code == 200
    assert resp.url.path == "/feeds/basic.xml"
    assert [r.headers["location"] for r in resp.history] == [
        "/redirect/1",
        "/redirect/0",
        "/feeds/basic.xml",
    ]
    other = client.get(server.url("/redirect/1?to=nokeys.xml"), follow_redirects=True)
    assert other.url.path == "/feeds/nokeys.xml"
    assert len(other.history) == 2


def test_loop_redirects_to_itself(server: FeedServer, client: httpx.Client) -> None:
    first = client.get(server.url("/loop"))
    assert first.status_code == 302
    assert first.headers["location"] == "/loop"
    with (
        httpx.Client(timeout=5.0, max_redirects=5, follow_redirects=True) as looping,
        pytest.raises(httpx.TooManyRedirects),
    ):
        looping.get(server.url("/loop"))
    assert server.hits("/loop") == 1 + 6


def test_big_stops_when_client_disconnects(server: FeedServer) -> None:
    with httpx.Client(timeout=10.0) as c, c.stream("GET", server.url("/big?mb=500")) as resp:
        assert resp.status_code == 200
        assert "content-length" not in resp.headers
        received = 0
        for chunk in resp.iter_raw():
            received += len(chunk)
            if received > 1024 * 1024:
                break
    (record,) = server.requests
    assert _wait(lambda: record.finished), "/big kept streaming after the client left"
    assert record.bytes_sent < 100 * 1024 * 1024
    assert server.errors == []


def test_big_small_is_complete(server: FeedServer, client: httpx.Client) -> None:
    body = client.get(server.url("/big?mb=1")).content
    assert len(body) >= 1024 * 1024
    assert body.startswith(b"<?xml") and body.rstrip().endswith(b"</rss>")


def test_port_placeholder_is_substituted(server: FeedServer, client: httpx.Client) -> None:
    body = client.get(server.url("/feeds/external-dtd.xml")).content
    assert b"{PORT}" not in body
    assert f'SYSTEM "http://127.0.0.1:{server.port}/dtd/evil.dtd"'.encode() in body
    assert server.hits("/dtd/evil.dtd") == 0
    assert client.get(server.url("/dtd/evil.dtd")).status_code == 200
    assert server.hits("/dtd/evil.dtd") == 1


def test_gzip_bomb_is_small_on_the_wire(server: FeedServer) -> None:
    with httpx.Client(timeout=30.0) as c, c.stream("GET", server.url("/gzip-bomb")) as resp:
        assert resp.headers["content-encoding"] == "gzip"
        raw = b"".join(resp.iter_raw())
    assert 100_000 < len(raw) < 400_000
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    total = 0
    pending = raw
    while pending:
        total += len(inflater.decompress(pending, 1 << 22))
        pending = inflater.unconsumed_tail
    assert total > BOMB_INFLATED_SIZE


def test_closed_port_refuses() -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{closed_port()}/", timeout=5.0)


def test_stop_is_prompt_while_drip_and_hang_are_read() -> None:
    srv = FeedServer(FEEDS)
    srv.start()
    outcomes: dict[str, str] = {}
    first_bytes = threading.Event()

    def read(path: str) -> None:
        try:
            with httpx.Client(timeout=20.0) as c, c.stream("GET", srv.url(path)) as resp:
                for _ in resp.iter_raw(1):
                    first_bytes.set()
            outcomes[path] = "eof"
        except httpx.HTTPError as exc:
            outcomes[path] = type(exc).__name__

    readers = [
        threading.Thread(target=read, args=(p,), daemon=True) for p in ("/drip?seconds=30", "/hang")
    ]
    try:
        for t in readers:
            t.start()
        assert first_bytes.wait(5.0)
        assert _wait(lambda: all(r.status == 200 for r in srv.requests) and len(srv.requests) == 2)
    finally:
        started = time.monotonic()
        srv.stop()
        elapsed = time.monotonic() - started
    assert elapsed < 2.0
    for t in readers:
        t.join(3.0)
        assert not t.is_alive()
    assert set(outcomes) == {"/drip?seconds=30", "/hang"}
    assert srv.active_connections() == 0
