"""Who may write, and the headers every answer carries.

Reads are open to whoever reaches the listener (127.0.0.1 by default). A write (feedback,
a retry) needs one of:
- `Authorization: Bearer TOKEN`, the token from the variable `web.token_env` names; or
- a session cookie (HttpOnly, SameSite=Strict, signed) with its CSRF token in the form or
  the X-CSRF-Token header, from a page of the same origin (Origin, else Referer, checked).
  With a token configured, the session must have logged in with it (/login); without one,
  any session may write, and the dashboard only listens on loopback (`check_listen`).

On a loopback listener the Host header must name loopback (or `web.base_url`'s host), so a
page on another site cannot reach the dashboard through DNS rebinding.
"""

import base64
import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from monitor.errors import ConfigError, Problem

COOKIE = "monitor_session"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = (
    (b"content-security-policy", POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


class Refused(Exception):
    """A write without the right credentials: `status` 401 (log in) or 403 (forged)."""

    def __init__(self, status: int, reason: str) -> None:
        self.status, self.reason = status, reason
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class Session:
    sid: str
    authed: bool  # may write (logged in with the token, or no token is configured)
    csrf: str
    fresh: bool = False  # its cookie still has to be set


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a write token.

    Raises:
        ConfigError: `host` is reachable from other machines and no token is set.
    """
    if token is None and not is_loopback(host):
        raise ConfigError(
            [
                Problem(
                    None,
                    f"listening on {host} makes the dashboard reachable from other machines: "
                    "set the write token (the variable web.token_env names, "
                    "MONITOR_WEB_TOKEN by default) or listen on 127.0.0.1",
                    where="web.listen",
                )
            ]
        )


class Guard:
    """Issues sessions and checks writes. The signing key lives as long as the process."""

    def __init__(self, token: str | None, allowed_origins: tuple[str, ...] = ()) -> None:
        self.token = token
        self.allowed_origins = allowed_origins  # besides the request's own (base_url's)
        self._key = secrets.token_bytes(32)

    def session_of(self, cookie: str | None) -> Session:
        """The session a cookie proves, or a fresh anonymous one."""
        if cookie and cookie.count(".") == 2:
            sid, flag, signature = cookie.split(".")
            if hmac.compare_digest(signature, self._sign(f"{sid}.{flag}")):
                return self._session(sid, authed=flag == "1" or self.token is None)
        return self._session(secrets.token_urlsafe(18), authed=self.token is None, fresh=True)

    def login(self, offered: str) -> Session | None:
        """A new, logged-in session when `offered` is the token; None otherwise."""
        if self.token is None or not hmac.compare_digest(offered.encode(), self.token.encode()):
            return None
        return self._session(secrets.token_urlsafe(18), authed=True, fresh=True)

    def cookie(self, session: Session) -> str:
        flag = "1" if session.authed and self.token is not None else "0"
        return f"{session.sid}.{flag}.{self._sign(f'{session.sid}.{flag}')}"

    def check_write(
        self, request: Request, session: Session, csrf: str | None, *, login: bool = False
    ) -> None:
        """Raises Refused unless the request may write (see the module docstring). With
        `login`, a session that has not logged in yet may post (the login form itself)."""
        bearer = request.headers.get("authorization", "")
        if bearer.lower().startswith("bearer "):
            offered = bearer[7:].strip().encode()
            if self.token is not None and hmac.compare_digest(offered, self.token.encode()):
                return
            raise Refused(401, "wrong or unknown token")
        if session.fresh:
            raise Refused(403, "no session: load a page of the dashboard first")
        if not csrf or not hmac.compare_digest(csrf, session.csrf):
            raise Refused(403, "missing or wrong CSRF token")
        if not self._same_origin(request):
            raise Refused(403, "the request does not come from a page of this dashboard")
        if not session.authed and not login:
            raise Refused(401, "log in with the token first")

    def _same_origin(self, request: Request) -> bool:
        origin = request.headers.get("origin")
        if not origin or origin == "null":
            referer = request.headers.get("referer", "")
            parts = urlsplit(referer)
            origin = f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
        return bool(origin) and origin in (own, *self.allowed_origins)

    def _session(self, sid: str, *, authed: bool, fresh: bool = False) -> Session:
        return Session(sid, authed, self._sign(f"csrf.{sid}"), fresh)

    def _sign(self, text: str) -> str:
        digest = hmac.new(self._key, text.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode()


class Shield:
    """ASGI middleware: refuses unknown Host headers on a loopback listener, and adds the
    security headers (CSP without inline scripts or styles, no framing, no sniffing)."""

    def __init__(self, app: ASGIApp, hosts: tuple[str, ...] | None) -> None:
        self.app = app
        self.hosts = hosts  # None: any Host (a listener beyond loopback, behind a token)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = dict(scope.get("headers") or ()).get(b"host", b"").decode("latin-1")
        if self.hosts is not None and _hostname(host) not in self.hosts:
            await _plain(send, 421, "unknown host: open the dashboard by its own address\n")
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def allowed_hosts(listen_host: str, base_url: str | None) -> tuple[str, ...] | None:
    """The Host names to accept: loopback names (and base_url's host) on a loopback
    listener; None (any) otherwise."""
    if not is_loopback(listen_host):
        return None
    extra = (urlsplit(base_url).hostname or "",) if base_url else ()
    return tuple(name.lower() for name in (*LOOPBACK_NAMES, listen_host.strip("[]"), *extra))


def _hostname(host: str) -> str:
    if host.startswith("["):
        return host[1:].split("]", 1)[0].lower()
    return host.rsplit(":", 1)[0].lower() if host.count(":") == 1 else host.lower()


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                *HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
