"""What every handler needs (the database, the rules, the guard, the templates, the clock),
and rendering a page with the session's CSRF token and cookie."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from monitor import __version__, store
from monitor.engine.ruleset import RuleSet
from monitor.settings import Settings
from monitor.web.security import COOKIE, Guard, Session
from monitor.web.templates import Templates

NAV = (
    ("/", "Overview"),
    ("/matches", "Matches"),
    ("/feeds", "Feeds"),
    ("/alerts", "Alerts"),
    ("/rules", "Rules"),
)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Desk:
    settings: Settings
    db: store.Database
    guard: Guard
    templates: Templates
    rules: Callable[[], RuleSet | None]
    clock: Callable[[], datetime]

    @property
    def secure_cookies(self) -> bool:
        return (self.settings.web.base_url or "").startswith("https://")


def desk_of(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def session_of(request: Request) -> Session:
    return desk_of(request).guard.session_of(request.cookies.get(COOKIE))


def render(
    request: Request,
    name: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    session: Session | None = None,
) -> HTMLResponse:
    """The template `name` as a page (or an htmx fragment), with the session's CSRF token;
    a new session's cookie is set on the way out."""
    desk = desk_of(request)
    session = session or session_of(request)
    path = request.url.path
    body = desk.templates.render(
        name,
        {
            **context,
            "csrf": session.csrf,
            "authed": session.authed,
            "token_required": desk.guard.token is not None,
            "now": desk.clock(),
            "nav": NAV,
            "here": path,
            "version": __version__,
        },
    )
    response = HTMLResponse(body, status_code=status, headers={"cache-control": "no-store"})
    if session.fresh:
        keep(response, desk, session)
    return response


def keep(response: Response, desk: Desk, session: Session) -> None:
    """Set the session's cookie on `response`."""
    response.set_cookie(
        COOKIE,
        desk.guard.cookie(session),
        httponly=True,
        samesite="strict",
        secure=desk.secure_cookies,
        path="/",
    )


def query_int(request: Request, name: str, *, low: int = 1, high: int | None = None) -> int | None:
    """An integer query parameter, or None when absent.

    Raises:
        HTTPException: 400 when it is not an integer in range.
    """
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise HTTPException(400, f"{name}: '{raw}' is not a whole number") from None
    if value < low or (high is not None and value > high):
        raise HTTPException(400, f"{name}: {value} is out of range")
    return value


def query_day(request: Request, name: str) -> date | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise HTTPException(400, f"{name}: '{raw}' is not a date (YYYY-MM-DD)") from None


def query_text(request: Request, name: str, choices: tuple[str, ...] | None = None) -> str | None:
    raw = request.query_params.get(name) or None
    if raw is not None and choices is not None and raw not in choices:
        raise HTTPException(400, f"{name}: '{raw}' is not one of {', '.join(choices)}")
    return raw
