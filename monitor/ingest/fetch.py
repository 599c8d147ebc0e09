"""Download feeds over HTTP with httpx. Knows nothing about feed formats, storage or rules.

Every fetch is bounded: connect/read timeouts, a total time budget, a cap on the *decoded*
body (enforced while streaming, so a gzip bomb stops at the cap), a redirect cap and a
per-host concurrency limit. Failures raise the `FetchError` family from monitor.errors.
"""

import asyncio
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urlsplit

import httpx

from monitor.errors import (
    BodyTooLarge,
    FeedGone,
    HTTPStatusError,
    PollTimeout,
    RateLimited,
    TransportError,
)
from monitor.model import FetchResult, Validators
from monitor.settings import HttpSettings

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.8, text/xml;q=0.8, */*;q=0.5"
)
# The headers feedparser uses to pick a character encoding and resolve links.
KEPT_HEADERS = ("content-type", "content-location", "content-language", "content-base")
Transport = httpx.AsyncBaseTransport


class Fetcher:
    """One shared HTTP client with per-host limits. Use as an async context manager."""

    def __init__(self, settings: HttpSettings, transport: Transport | None = None) -> None:
        self._settings = settings
        self._client = httpx.AsyncClient(
            headers={
                "User-Agent": settings.user_agent,
                "Accept": ACCEPT,
                "Accept-Encoding": "gzip, deflate",
            },
            timeout=httpx.Timeout(
                connect=settings.connect_timeout.total_seconds(),
                read=settings.read_timeout.total_seconds(),
                write=settings.read_timeout.total_seconds(),
                pool=None,  # waiting for a pooled connection is bounded by the total budget
            ),
            follow_redirects=True,
            max_redirects=settings.max_redirects,
            limits=httpx.Limits(max_connections=settings.workers * settings.per_host),
            transport=transport,
        )
        self._hosts: dict[str, asyncio.Semaphore] = {}

    async def __aenter__(self) -> "Fetcher":
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()

    async def fetch(self, url: str, validators: Validators) -> FetchResult:
        """GET `url`, conditionally when `validators` are known.

        Raises:
            FetchError: a subclass saying what went wrong (timeout, size, status, network).
        """
        host = (urlsplit(url).hostname or "").lower()
        limit = self._hosts.setdefault(host, asyncio.Semaphore(self._settings.per_host))
        budget = self._settings.total_timeout.total_seconds()
        async with limit:
            try:
                async with asyncio.timeout(budget):
                    return await self._fetch(url, validators)
            except TimeoutError:
                raise PollTimeout(f"no complete answer within the {budget:g}s budget") from None
            except httpx.TimeoutException as exc:
                raise PollTimeout(_timeout_message(exc, self._settings)) from None
            except httpx.TooManyRedirects:
                raise TransportError(
                    f"too many redirects (more than {self._settings.max_redirects})"
                ) from None
            except httpx.HTTPError as exc:
                raise TransportError(_network_message(exc)) from None

    async def _fetch(self, url: str, validators: Validators) -> FetchResult:
        headers = {}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        async with self._client.stream("GET", url, headers=headers) as response:
            final_url = str(response.url)
            _raise_for_status(response)
            kept = {k: response.headers[k] for k in KEPT_HEADERS if k in response.headers}
            new_validators = Validators(
                etag=response.headers.get("etag") or validators.etag,
                last_modified=response.headers.get("last-modified") or validators.last_modified,
            )
            if response.status_code == 304:
                return FetchResult(final_url, 304, None, new_validators, kept)
            body = await _read_capped(response, self._settings.max_body)
            return FetchResult(final_url, response.status_code, body, new_validators, kept)


def _raise_for_status(response: httpx.Response) -> None:
    code = response.status_code
    if code == 304 or 200 <= code < 300:
        return
    reason = f"HTTP {code} {response.reason_phrase}".strip()
    if code == 410:
        raise FeedGone(f"{reason}: the publisher removed this feed", status=code)
    if code in (429, 503):
        after = parse_retry_after(response.headers.get("retry-after"), datetime.now(UTC))
        hint = f" (Retry-After {after:g}s)" if after is not None else ""
        raise RateLimited(f"{reason}{hint}", status=code, retry_after=after)
    raise HTTPStatusError(reason, status=code)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


async def _read_capped(response: httpx.Response, cap: int) -> bytes:
    """Read and decode the body, stopping as soon as the decoded size passes `cap`.

    Decoding is done here rather than by httpx so that each step inflates at most `cap`
    bytes: httpx would inflate a whole network chunk at once (up to ~1000x its size).
    """
    length = response.headers.get("content-length", "")
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "identity" and length.isdigit() and int(length) > cap:
        raise BodyTooLarge(f"body is {int(length)} bytes, over the {cap}-byte cap")
    body = bytearray()
    async for chunk in _decoded(response.aiter_raw(), encoding, cap):
        body += chunk
        if len(body) > cap:
            raise BodyTooLarge(f"decoded body passed the {cap}-byte cap; stopped reading")
    return bytes(body)


async def _decoded(raw: AsyncIterator[bytes], encoding: str, cap: int) -> AsyncIterator[bytes]:
    if encoding in ("", "identity"):
        async for chunk in raw:
            yield chunk
        return
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise TransportError(f"unsupported Content-Encoding '{encoding}'")
    inflater = None
    try:
        async for chunk in raw:
            if inflater is None:
                inflater = zlib.decompressobj(_window_bits(encoding, chunk))
            data = chunk
            while data:
                yield inflater.decompress(data, cap + 1)
                data = inflater.unconsumed_tail
        if inflater is not None:
            yield inflater.flush()
    except zlib.error as exc:
        raise TransportError(f"cannot decode {encoding} body: {exc}") from None


def _window_bits(encoding: str, first: bytes) -> int:
    if encoding != "deflate":
        return zlib.MAX_WBITS | 16
    # "deflate" is meant to be zlib-wrapped, but many servers send raw deflate
    zlib_header = len(first) >= 2 and first[0] & 0x0F == 8 and int.from_bytes(first[:2]) % 31 == 0
    return zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS


def _timeout_message(exc: httpx.TimeoutException, settings: HttpSettings) -> str:
    if isinstance(exc, httpx.ConnectTimeout):
        return f"connect timeout after {settings.connect_timeout.total_seconds():g}s"
    if isinstance(exc, httpx.ReadTimeout):
        return f"read timeout: no data for {settings.read_timeout.total_seconds():g}s"
    return f"timeout: {type(exc).__name__}"


def _network_message(exc: httpx.HTTPError) -> str:
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect: {detail}"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"protocol error: {detail}"
    return f"{type(exc).__name__}: {detail}"
