"""The writes: marking a match relevant or not, retrying a dead delivery, logging in and
out. Each is a POST that passes `Guard.check_write` first (token, or session + CSRF +
same origin); they answer htmx with a fragment, scripts with JSON, forms with a redirect."""

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from monitor import store
from monitor.alerts.links import match_path
from monitor.web.desk import desk_of, keep, render, session_of
from monitor.web.security import CSRF_FIELD, CSRF_HEADER, Guard

MAX_NOTE = 2000
VERDICTS = ("relevant", "not-relevant", "clear")


async def feedback(request: Request) -> Response:
    desk = desk_of(request)
    match_id = int(request.path_params["match_id"])
    fields, wants_json = await _fields(request)
    _guard(request, desk.guard, fields)
    verdict = _verdict(fields)
    note = str(fields.get("note") or "").strip()[:MAX_NOTE] or None
    if verdict == "clear":
        await run_in_threadpool(store.clear_feedback, desk.db, match_id)
        mark = None
    else:
        relevant = verdict == "relevant"
        mark = await run_in_threadpool(
            store.set_feedback, desk.db, match_id, relevant, note, desk.clock()
        )
        if mark is None:
            raise HTTPException(404, "no such match")
    if wants_json:
        return JSONResponse(
            {
                "match_id": match_id,
                "relevant": None if mark is None else mark.relevant,
                "note": None if mark is None else mark.note,
            }
        )
    if request.headers.get("hx-request"):
        return render(request, "_feedback.html.j2", {"mark": mark, "match_id": match_id})
    return RedirectResponse(match_path(match_id), status_code=303)


async def retry(request: Request) -> Response:
    """Queue a dead delivery again (only a dead one: a sent alert is never re-sent here)."""
    desk = desk_of(request)
    delivery_id = int(request.path_params["delivery_id"])
    fields, wants_json = await _fields(request)
    _guard(request, desk.guard, fields)
    status = await run_in_threadpool(store.delivery_status, desk.db, delivery_id)
    if status is None:
        raise HTTPException(404, "no such delivery")
    if status != "dead":
        raise HTTPException(409, f"delivery {delivery_id} is {status}; only dead ones are retried")
    await run_in_threadpool(
        lambda: store.retry_deliveries(desk.db, desk.clock(), ids=[delivery_id])
    )
    if wants_json:
        return JSONResponse({"delivery_id": delivery_id, "status": "pending"})
    if request.headers.get("hx-request"):
        return render(request, "_retried.html.j2", {"delivery_id": delivery_id})
    return RedirectResponse("/alerts?status=pending", status_code=303)


def login_page(request: Request) -> Response:
    return render(request, "login.html.j2", {"next": _local(request.query_params.get("next"))})


async def login(request: Request) -> Response:
    desk = desk_of(request)
    fields, _ = await _fields(request)
    session = session_of(request)
    desk.guard.check_write(request, session, _csrf(request, fields), login=True)
    target = _local(str(fields.get("next") or "/"))
    fresh = desk.guard.login(str(fields.get("token") or ""))
    if fresh is None:
        context = {"next": target, "error": "That is not the token."}
        return render(request, "login.html.j2", context, status=401)
    response = RedirectResponse(target, status_code=303)
    keep(response, desk, fresh)
    return response


async def logout(request: Request) -> Response:
    desk = desk_of(request)
    fields, _ = await _fields(request)
    desk.guard.check_write(request, session_of(request), _csrf(request, fields), login=True)
    response = RedirectResponse("/", status_code=303)
    keep(response, desk, desk.guard.session_of(None))  # a new anonymous session
    return response


async def _fields(request: Request) -> tuple[dict[str, Any], bool]:
    """The posted fields (a form, or a JSON object) and whether JSON was posted."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            body = await request.json()
        except ValueError:
            raise HTTPException(400, "the body is not JSON") from None
        if not isinstance(body, dict):
            raise HTTPException(400, "the body must be a JSON object")
        return body, True
    form = await request.form(max_files=0, max_fields=20)
    return {k: v for k, v in form.items() if isinstance(v, str)}, False


def _guard(request: Request, guard: Guard, fields: dict[str, Any]) -> None:
    guard.check_write(request, session_of(request), _csrf(request, fields))


def _csrf(request: Request, fields: dict[str, Any]) -> str | None:
    value = fields.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    return str(value) if value else None


def _verdict(fields: dict[str, Any]) -> str:
    if isinstance(fields.get("relevant"), bool):  # JSON: {"relevant": true}
        return "relevant" if fields["relevant"] else "not-relevant"
    verdict = fields.get("verdict")
    if verdict not in VERDICTS:
        raise HTTPException(400, f"verdict must be one of {', '.join(VERDICTS)}")
    return str(verdict)


def _local(path: str | None) -> str:
    """`path` when it is a path on this site; '/' otherwise (no open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path


ROUTES = [
    Route("/matches/{match_id:int}/feedback", feedback, methods=["POST"]),
    Route("/alerts/{delivery_id:int}/retry", retry, methods=["POST"]),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
]
