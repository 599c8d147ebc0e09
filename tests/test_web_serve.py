"""The dashboard's settings and its server: the write token read from the environment,
listen/base_url checked, loopback unless there is a token, and `serve` running in the
caller's event loop (as the daemon will) until the caller's stop event."""

import asyncio
import socket
from pathlib import Path

import httpx
import pytest

from monitor.cli import EXIT_INVALID, main
from monitor.config import load_settings
from monitor.errors import ConfigError
from monitor.settings import Settings
from monitor.store import Database
from monitor.web import check_listen, create_app, serve
from tests.webdata import web_settings


def settings_from(tmp_path: Path, yaml: str, env: dict[str, str]) -> Settings:
    path = tmp_path / "monitor.yaml"
    path.write_text(yaml, encoding="utf-8")
    return load_settings(path, env)


def test_the_write_token_comes_from_the_environment_and_stays_out_of_dumps(
    tmp_path: Path,
) -> None:
    default = load_settings(Path("/dev/null"), {"MONITOR_WEB_TOKEN": " s3cret "})
    named = settings_from(
        tmp_path, "web:\n  token_env: DESK_TOKEN\n  listen: '[::1]:9090'\n", {"DESK_TOKEN": "t"}
    )
    unset = load_settings(Path("/dev/null"), {})

    assert default.web.token == "s3cret" and default.web.listen == "127.0.0.1:8080"
    assert "s3cret" not in repr(default) and "s3cret" not in str(default.model_dump())
    assert named.web.token == "t" and (named.web.host, named.web.port) == ("::1", 9090)
    assert unset.web.token is None and unset.web.base_url is None


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        ("web:\n  listen: localhost\n", "web.listen: 'localhost' is not HOST:PORT"),
        ("web:\n  listen: 'localhost:99999'\n", "is not HOST:PORT"),
        ("web:\n  base_url: ftp://x\n", "web.base_url: 'ftp://x' is not the root of an http(s)"),
        ("web:\n  base_url: https://x.org/desk\n", "is not the root of an http(s) site"),
        ("web:\n  listn: x\n", "web.listn: unknown setting"),
    ],
)
def test_bad_web_settings_are_reported_at_their_line(
    tmp_path: Path, yaml: str, message: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        settings_from(tmp_path, yaml, {})

    [problem] = raised.value.problems
    assert message in problem.message and problem.pos is not None and problem.pos.line == 2


def test_listening_beyond_loopback_needs_a_token() -> None:
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.5"):
        check_listen(host, None)
    check_listen("0.0.0.0", "a-token")

    with pytest.raises(ConfigError) as raised:
        check_listen("0.0.0.0", None)

    assert "MONITOR_WEB_TOKEN" in str(raised.value)


def test_serve_answers_in_the_callers_loop_until_stop_is_set(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    db.upgrade()
    app = create_app(web_settings(), db, token=None)
    ports: list[int] = []

    async def scenario() -> tuple[int, int]:
        stop = asyncio.Event()
        serving = asyncio.create_task(
            serve(app, "127.0.0.1", 0, stop, ready=lambda _h, p: ports.append(p))
        )
        while not ports:
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}") as client:
            page = await client.get("/matches")
            health = await client.get("/healthz")
        stop.set()
        await serving
        return page.status_code, health.status_code

    page, health = asyncio.run(scenario())

    assert (page, health) == (200, 503)  # no daemon beats in this database
    with socket.socket() as probe:  # the port is free again
        probe.bind(("127.0.0.1", ports[0]))


def test_serve_refuses_a_public_address_without_a_token_and_a_busy_port(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'm.db'}")
    db.upgrade()
    app = create_app(web_settings(), db, token=None)

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
            asyncio.run(serve(app, "127.0.0.1", port, asyncio.Event()))
    with pytest.raises(ConfigError, match="reachable from other machines"):
        asyncio.run(serve(app, "0.0.0.0", 0, asyncio.Event()))


def test_monitor_web_rejects_a_bad_listen_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(f'database_url: "sqlite:///{tmp_path / "m.db"}"\n', encoding="utf-8")

    code = main(["--config", str(config), "web", "--listen", "8080"])
    public = main(["--config", str(config), "web", "--listen", "0.0.0.0:0"])

    err = capsys.readouterr().err
    assert code == EXIT_INVALID and "use HOST:PORT" in err
    assert public == EXIT_INVALID and "web.listen: error: listening on 0.0.0.0" in err
