"""Read feed documents in worker processes, each read bounded by a deadline (what a read
does, parse, normalize and match, is `monitor.reading`'s; this module only runs it).

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
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool

from monitor.errors import ParseError, PollTimeout

# time for a worker to hand a finished read back, on top of the read's own deadline
_HANDOVER = 1.0
T = TypeVar("T")


def default_processes() -> int:
    """One reader per CPU this process may run on, less the one the daemon's own process
    keeps busy fetching and storing (40-45 % of a cold cycle's CPU, measured), and at least
    one: on two CPUs a second reader made the cycle no faster and took 20 MB more."""
    try:
        cpus = len(os.sched_getaffinity(0))  # what a container or taskset allows
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus - 1)


class ReadPool:
    """A pool of reader processes. `close()` it when done (or use it as a context manager)."""

    def __init__(
        self,
        processes: int = 0,
        *,
        preload: tuple[str, ...] = (),
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
    ) -> None:
        """`preload`: modules the forkserver imports before it forks a worker (only when
        this process starts its forkserver); `initializer(*initargs)` runs in each worker
        as it starts."""
        self.processes = processes or default_processes()
        self.closed = False
        context = multiprocessing.get_context("forkserver")
        if preload:
            context.set_forkserver_preload(list(preload))
        self._pool = ProcessPool(
            max_workers=self.processes,
            context=context,
            initializer=initializer,
            initargs=initargs,
        )

    def __enter__(self) -> "ReadPool":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

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

    def call(self, function: Callable[..., T], args: tuple[Any, ...], timeout: float) -> T:
        """`function(*args)` in a reader, waiting for its answer (blocking: for start-up and
        rule reloads, not for polls).

        Raises:
            ParseError: the reader died running it.
            PollTimeout: it did not finish within `timeout` seconds (the reader was killed), or
                the pool was closed before it did.
        """
        if not self.closed:
            future = self._pool.schedule(function, args=args, timeout=timeout)
            try:
                return future.result()
            except (ProcessExpired, BrokenProcessPool) as exc:
                if not self.closed:  # else stopping killed it
                    raise ParseError(f"the reader process died ({exc})", kind="crashed") from None
            except FutureTimeout:
                raise PollTimeout(f"the reader did not finish within {timeout:.0f}s") from None
            except FutureCancelled:
                pass  # only stopping the pool cancels
        raise PollTimeout("the readers were stopped")

    def close(self) -> None:
        """Stop every worker now, killing reads still running."""
        self.closed = True
        self._pool.stop()  # type: ignore[no-untyped-call]
        self._pool.join(timeout=5)
