"""Whether a daemon that wrote a heartbeat is still running, judged from its host's process
table. Used so that a restarted daemon frees its dead predecessor's leases at once instead
of waiting for them to run out."""

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

# The heartbeat row is written a little after the process starts (imports, migrations);
# a process that started later than this after the row's start is another process.
_START_SLACK = timedelta(seconds=30)


def process_alive(pid: int, started_at: datetime) -> bool:
    """Whether process `pid`, which started at about `started_at`, still runs on this host.
    A PID that a younger process has taken over counts as gone."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it runs, as another user
    began = _start_time(pid)
    return began is None or began <= started_at + _START_SLACK


def _start_time(pid: int) -> datetime | None:
    """When `pid` started, from /proc (Linux); None where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = next(
            int(line.split()[1])
            for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )
        # fields after the command name (which may hold spaces) start at field 3
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        per_second = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    return datetime.fromtimestamp(boot + ticks / per_second, UTC)
