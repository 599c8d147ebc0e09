"""The dashboard as an ASGI app: `create_app` wires the pages, the writes, /metrics,
/healthz and the vendored static files (htmx, uPlot: nothing is fetched from elsewhere)."""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from monitor import store
from monitor.engine.ruleset import RuleSet
from monitor.settings import Settings
from monitor.web import actions, metrics, pages
from monitor.web.desk import Desk, render, utc_now
from monitor.web.security import Guard, Refused, Shield, allowed_hosts
from monitor.web.templates import Templates

STATIC = Path(__file__).resolve().parent / "static"


def create_app(
    settings: Settings,
    db: store.Database,
    *,
    token: str | None,
    rules: Callable[[], RuleSet | None] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Starlette:
    """The dashboard over `db`. Writes need `token` (usually `settings.web.token`) or a
    same-origin session; with no token, only sessions, so serve it on loopback only.
    `rules` gives the live rule set (titles, dyads, examples); None shows stored data only.
    """
    base = settings.web.base_url
    origins = (f"{urlsplit(base).scheme}://{urlsplit(base).netloc}",) if base else ()
    desk = Desk(
        settings=settings,
        db=db,
        guard=Guard(token, origins),
        templates=Templates(),
        rules=rules or (lambda: None),
        clock=clock,
    )
    app = Starlette(
        routes=[
            *pages.ROUTES,
            *actions.ROUTES,
            *metrics.ROUTES,
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        middleware=[Middleware(Shield, hosts=allowed_hosts(settings.web.host, base))],
        exception_handlers={HTTPException: _http_error, Refused: _refused},
    )
    app.state.desk = desk
    app.state.registry = metrics.registry_for(db, clock)
    return app


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "") or request.url.path.startswith(
        "/api/"
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _wants_json(request):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
    return render(request, "error.html.j2", {"error": exc.detail}, status=exc.status_code)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refused)
    if _wants_json(request) or request.headers.get("authorization"):
        return JSONResponse({"error": exc.reason}, status_code=exc.status)
    return render(request, "error.html.j2", {"error": exc.reason}, status=exc.status)
