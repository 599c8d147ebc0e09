"""Who may write, and what never leaves the dashboard: writes refused without the token or
a same-origin session with its CSRF token, unknown Host headers refused, security headers
on every answer, read-only pages that never write, and no secret on any page."""

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlmodel import SQLModel

from monitor import store
from monitor.store import Database
from monitor.web.security import COOKIE
from tests.webdata import (
    APPRISE_SECRET,
    ARMS,
    FEED_SECRET,
    NOW,
    TARGET_SECRET,
    WEB_TOKEN,
    Browser,
    fill,
    filled_database,
    make_app,
)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    pg_url = request.getfixturevalue("pg_url") if request.param == "postgres" else None
    with filled_database(request.param, tmp_path_factory.mktemp("sec"), pg_url) as (db, _):
        yield db


@pytest.fixture
def fresh(db: Database) -> Database:
    fill(db)
    return db


def an_arms_match(db: Database, n: int = 0) -> int:
    rows = store.match_page(db, store.MatchFilter(rule=ARMS), limit=100).rows
    return rows[n].id


def marks(db: Database) -> dict[int, bool]:
    return {m.match_id: m.relevant for m in store.marked_items(db)}


def test_a_write_needs_the_session_its_csrf_token_and_the_same_origin(fresh: Database) -> None:
    match_id = an_arms_match(fresh)
    path = f"/matches/{match_id}/feedback"
    stranger = Browser(make_app(fresh))
    before = marks(fresh)

    no_session = stranger.post(path, {"verdict": "not-relevant"})
    csrf = stranger.csrf()  # now it has a session
    no_csrf = stranger.post(path, {"verdict": "not-relevant"})
    wrong_csrf = stranger.post(path, {"verdict": "not-relevant", "csrf": csrf[:-2] + "xx"})
    other_site = stranger.post(
        path, {"verdict": "not-relevant", "csrf": csrf}, origin="https://evil.example"
    )
    no_origin = stranger.post(path, {"verdict": "not-relevant", "csrf": csrf}, origin=None)
    forged = Browser(make_app(fresh))
    forged.cookies[COOKIE] = stranger.cookies[COOKIE].rsplit(".", 1)[0] + ".forged"
    forged_cookie = forged.post(path, {"verdict": "not-relevant", "csrf": csrf})

    for refused in (no_session, no_csrf, wrong_csrf, other_site, no_origin, forged_cookie):
        assert refused.status_code == 403
    assert marks(fresh) == before
    # the same request from the dashboard's own page goes through (Referer when no Origin)
    referred = stranger.post(
        path,
        {"verdict": "not-relevant", "csrf": csrf},
        origin=None,
        headers={"referer": f"http://127.0.0.1:8080/matches/{match_id}"},
    )
    assert referred.status_code == 303
    assert marks(fresh) == {**before, match_id: False}


def test_another_apps_session_cannot_write(fresh: Database) -> None:
    # each app signs with its own key: a cookie from another process is no session here
    elsewhere = Browser(make_app(fresh))
    csrf = elsewhere.csrf()
    here = Browser(make_app(fresh))
    here.cookies = dict(elsewhere.cookies)

    answer = here.post(
        f"/matches/{an_arms_match(fresh)}/feedback", {"verdict": "relevant", "csrf": csrf}
    )

    assert answer.status_code == 403


def test_with_a_token_a_write_needs_the_token_or_a_logged_in_session(fresh: Database) -> None:
    app = make_app(fresh, token=WEB_TOKEN)
    match_id = an_arms_match(fresh)
    path = f"/matches/{match_id}/feedback"
    visitor = Browser(app)
    csrf = visitor.csrf()

    not_logged_in = visitor.post(path, {"verdict": "relevant", "csrf": csrf})
    wrong_bearer = Browser(app).post(
        path, json={"relevant": True}, headers={"authorization": "Bearer guess"}, origin=None
    )
    bearer = Browser(app).post(
        path,
        json={"relevant": False, "note": "from a script"},
        headers={"authorization": f"Bearer {WEB_TOKEN}"},
        origin=None,
    )
    page = visitor.get(f"/matches/{match_id}").text

    assert not_logged_in.status_code == 401 and wrong_bearer.status_code == 401
    assert bearer.status_code == 200
    assert bearer.json() == {"match_id": match_id, "relevant": False, "note": "from a script"}
    assert 'id="mark-relevant"' not in page and "Log in</a> to mark it." in page

    bad_login = visitor.post("/login", {"token": "guess", "csrf": csrf, "next": "/"})
    login = visitor.post("/login", {"token": WEB_TOKEN, "csrf": csrf, "next": path[:-9]})
    csrf = visitor.csrf(path[:-9])
    logged_in = visitor.post(path, {"verdict": "relevant", "csrf": csrf})

    assert bad_login.status_code == 401 and "That is not the token." in bad_login.text
    assert login.status_code == 303 and login.headers["location"] == f"/matches/{match_id}"
    assert logged_in.status_code == 303 and marks(fresh)[match_id] is True
    assert 'id="mark-relevant"' in visitor.get(f"/matches/{match_id}").text

    visitor.post("/logout", {"csrf": csrf})
    csrf = visitor.csrf()
    assert visitor.post(path, {"verdict": "clear", "csrf": csrf}).status_code == 401


def test_login_never_redirects_off_the_site(shared: Database) -> None:
    browser = Browser(make_app(shared, token=WEB_TOKEN))

    for target in ("//evil.example/x", "https://evil.example", "/\\evil.example", ""):
        csrf = browser.csrf()  # a login starts a new session, with a new token
        answer = browser.post("/login", {"token": WEB_TOKEN, "csrf": csrf, "next": target})
        assert answer.headers["location"] == "/", target


def test_an_unknown_host_is_refused_on_loopback(shared: Database) -> None:
    # DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not read the desk
    local = make_app(shared)
    behind_proxy = make_app(shared, base_url="https://desk.example.org")
    public = make_app(shared, token=WEB_TOKEN, listen="0.0.0.0:8080")

    assert Browser(local, "http://evil.example").get("/").status_code == 421
    assert Browser(local, "http://localhost:8080").get("/").status_code == 200
    assert Browser(local, "http://[::1]:8080").get("/").status_code == 200
    assert Browser(behind_proxy, "https://desk.example.org").get("/").status_code == 200
    assert Browser(behind_proxy, "http://evil.example").get("/metrics").status_code == 421
    assert Browser(public, "http://10.1.2.3:8080").get("/").status_code == 200


def test_every_answer_carries_the_security_headers(shared: Database) -> None:
    browser = Browser(make_app(shared))

    for path in ("/", "/api/series", "/static/desk.js", "/matches/999999", "/metrics"):
        headers = browser.get(path).headers
        policy = headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, path
        assert "frame-ancestors 'none'" in policy, path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["x-frame-options"] == "DENY", path
    refused = Browser(make_app(shared), "http://evil.example").get("/")
    assert "content-security-policy" in refused.headers


def test_the_session_cookie_is_httponly_strict_and_secure_behind_https(shared: Database) -> None:
    plain = Browser(make_app(shared)).get("/").headers["set-cookie"]
    https = Browser(
        make_app(shared, base_url="https://desk.example.org"), "https://desk.example.org"
    )

    assert "httponly" in plain.lower() and "samesite=strict" in plain.lower()
    assert "secure" not in plain.lower()
    assert "secure" in https.get("/").headers["set-cookie"].lower()


def snapshot(db: Database) -> dict[str, list[tuple[object, ...]]]:
    with db.engine.connect() as conn:
        return {
            table.name: [
                tuple(row) for row in conn.execute(select(table).order_by(*table.primary_key))
            ]
            for table in SQLModel.metadata.sorted_tables
        }


def every_read(db: Database) -> list[str]:
    match_id = an_arms_match(db)
    detail = store.match_detail(db, match_id)
    assert detail is not None and detail.match.story_id is not None
    return [
        "/",
        "/matches",
        f"/matches?rule={ARMS}&feedback=unmarked&level=high&feed=wire-a&from=2026-11-01",
        f"/matches/{match_id}",
        f"/stories/{detail.match.story_id}",
        "/feeds",
        "/alerts",
        "/alerts?status=dead",
        "/rules",
        "/login",
        "/api/series?by=rule",
        "/api/series?by=dyad&days=30",
        "/metrics",
        "/healthz",
        "/static/desk.js",
        "/matches/999999",
    ]


def test_reading_every_page_writes_nothing(shared: Database) -> None:
    browser = Browser(make_app(shared))
    before = snapshot(shared)

    for path in every_read(shared):
        assert browser.get(path).status_code in (200, 404, 503), path

    assert snapshot(shared) == before


def test_no_secret_reaches_any_page(shared: Database) -> None:
    # Given a feed URL with a token, a target's Apprise URL, a delivery error naming an
    # Apprise URL, and the write token itself
    assert FEED_SECRET in next(f.url for f in store.list_feeds(shared) if f.name == "wire-a")
    dead = store.delivery_page(shared, status="dead", limit=1).rows[0]
    assert APPRISE_SECRET in (dead.last_error or "")
    browser = Browser(make_app(shared, token=WEB_TOKEN))

    # When every page is read, then none of them shows any of those
    for path in every_read(shared):
        body = browser.get(path).text
        for secret in (FEED_SECRET, APPRISE_SECRET, TARGET_SECRET, WEB_TOKEN):
            assert secret not in body, (path, secret)


def test_a_mark_from_the_api_is_kept_with_its_time(fresh: Database) -> None:
    app = make_app(fresh, token=WEB_TOKEN)
    match_id = an_arms_match(fresh, 2)

    Browser(app).post(
        f"/matches/{match_id}/feedback",
        json={"relevant": True},
        headers={"authorization": f"Bearer {WEB_TOKEN}"},
        origin=None,
    )

    mark = store.feedback_for(fresh, [match_id])[match_id]
    assert mark.relevant and mark.marked_at == NOW and mark.rule == ARMS


def test_bad_write_bodies_are_a_400(fresh: Database) -> None:
    app = make_app(fresh, token=WEB_TOKEN)
    auth = {"authorization": f"Bearer {WEB_TOKEN}"}
    path = f"/matches/{an_arms_match(fresh)}/feedback"
    before = marks(fresh)

    for body in ("[1, 2]", "{not json", '{"verdict": "maybe"}'):
        answer = Browser(app).post(
            path, content=body, headers={**auth, "content-type": "application/json"}, origin=None
        )
        assert answer.status_code == 400, body
    assert marks(fresh) == before
