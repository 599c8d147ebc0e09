"""Read feed documents (parse + normalize) in worker processes, each bounded by a deadline.

The only user of pebble. A hostile document can keep feedparser's fallback parser busy for
a minute; in a thread that parse would run on past its poll's budget and hold up shutdown.
Here a read that passes its deadline has its worker process killed and replaced, and
stopping the pool kills what is still running. Workers come from a forkserver, a clean
process started before the daemon's threads, never from a fork of the threaded daemon; two
of them also parse twice as fast as one thread on two cores.
"""

import asyncio
import multiprocessing
import os
from collections.abc import Callable, Mapping
from concurrent.futures import CancelledError as FutureCancelled
from datetime import datetime
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool

from monitor.errors import ParseError, PollTimeout
from monitor.ingest.document import read_document
from monitor.model import Item, ParsedFeed

# time for a worker to hand a finished read back, on top of the read's own deadline
_HANDOVER = 1.0
T = TypeVar("T")


class ReadPool:
    """A pool of reader processes. `close()` it when done (or use it as a context manager)."""

    def __init__(self, processes: int = 0) -> None:
        self.processes = processes or os.cpu_count() or 1
        self._pool = ProcessPool(
            max_workers=self.processes, context=multiprocessing.get_context("forkserver")
        )

    def __enter__(self) -> "ReadPool":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    async def read(
        self,
        body: bytes,
        headers: Mapping[str, str] | None,
        *,
        url: str,
        language: str | None,
        fetched_at: datetime,
        deadline: float,
    ) -> tuple[ParsedFeed, tuple[Item, ...]]:
        """`read_document` in a worker, given at most `deadline` seconds (waiting included).

        Raises:
            ParseError: the document is not a usable feed, or its reader died.
            PollTimeout: the read did not finish in time (its worker was killed).
        """
        return await self.run(
            read_document,
            (body, dict(headers or {})),
            {"url": url, "language": language, "fetched_at": fetched_at},
            deadline,
        )

    async def run(
        self,
        function: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: Mapping[str, Any],
        deadline: float,
    ) -> T:
        """`function(*args, **kwargs)` in a worker (a module-level function, so the worker
        can import it), given at most `deadline` seconds, waiting included.

        Raises:
            ParseError: the worker died running it.
            PollTimeout: it did not finish in time (its worker was killed).
        """
        future = self._pool.schedule(function, args=args, kwargs=dict(kwargs), timeout=deadline)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), deadline + _HANDOVER)
        except TimeoutError:
            future.cancel()  # type: ignore[no-untyped-call]  # queued: dropped; running: killed
            raise PollTimeout(
                f"parsing did not finish within the poll's {deadline:.1f}s budget"
            ) from None
        except ProcessExpired as exc:
            raise ParseError(f"the parser process died ({exc})", kind="crashed") from None
        except FutureCancelled:
            raise PollTimeout("parsing was stopped: the daemon is shutting down") from None
        except asyncio.CancelledError:
            future.cancel()  # type: ignore[no-untyped-call]
            raise

    def close(self) -> None:
        """Stop every worker now, killing reads still running."""
        self._pool.stop()  # type: ignore[no-untyped-call]
        self._pool.join(timeout=5)
