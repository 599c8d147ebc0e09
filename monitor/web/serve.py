"""Serving the dashboard with uvicorn, inside whatever event loop the caller runs (the
`monitor web` command, or the daemon), until the caller's `stop` event is set.

The only user of uvicorn. Signals stay the caller's: uvicorn's own handlers are not
installed, so a daemon that serves the dashboard still stops the way it always did.
"""

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator

import uvicorn
from starlette.applications import Starlette

from monitor.errors import ConfigError, Problem
from monitor.web.security import check_listen

log = logging.getLogger(__name__)
SHUTDOWN_GRACE = 3  # seconds open requests get once `stop` is set


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the caller owns SIGTERM/SIGINT


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free port).

    Raises:
        ConfigError: the address cannot be listened on (in use, not this machine's …).
    """
    sock: socket.socket | None = None
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        if sock is not None:
            sock.close()
        reason = exc.strerror or str(exc)
        raise ConfigError(
            [Problem(None, f"cannot listen on {host}:{port}: {reason}", where="web.listen")]
        ) from exc
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve(
    app: Starlette,
    host: str,
    port: int,
    stop: asyncio.Event,
    *,
    ready: Callable[[str, int], None] | None = None,
) -> None:
    """Serve `app` on host:port until `stop` is set; `ready(host, port)` is called once the
    socket listens (with the real port when `port` is 0).

    Raises:
        ConfigError: beyond loopback without a write token, or the address is unusable.
    """
    check_listen(host, app.state.desk.guard.token)
    sock = bind(host, port)
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="off",
        server_header=False,
        timeout_graceful_shutdown=SHUTDOWN_GRACE,
    )
    server = _Server(config)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    bound_port = sock.getsockname()[1]
    log.info("dashboard listening", extra={"url": f"http://{_netloc(host)}:{bound_port}"})
    if ready is not None:
        ready(host, bound_port)
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        server.should_exit = True
        stopping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        sock.close()


def _netloc(host: str) -> str:
    return f"[{host}]" if ":" in host else host
