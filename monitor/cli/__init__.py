"""The `monitor` command: argument parsing, and typed errors turned into messages and exit
codes. The only package that prints. Must hold no logic of its own beyond presentation: it
calls the stages and the composition root like any other caller."""

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from monitor import __version__
from monitor.cli.alerts import add_commands as add_alert_commands
from monitor.cli.context import (
    EXIT_FAILURE,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    CommandError,
    print_problems,
)
from monitor.cli.feeds import add_commands as add_feed_commands
from monitor.cli.rules import add_commands as add_rule_commands
from monitor.cli.web import add_commands as add_web_commands
from monitor.config import load_settings
from monitor.errors import AlertError, ConfigError, StoreError
from monitor.logs import configure_logging
from monitor.settings import Settings
from monitor.yamlpos import Loc

__all__ = ["EXIT_FAILURE", "EXIT_INVALID", "EXIT_OK", "EXIT_UNAVAILABLE", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(
            args.config, optional=args.command == "rules", checks=[_check_digests]
        )
    except ConfigError as exc:
        print_problems(exc.problems, what="in the configuration")
        return EXIT_INVALID
    # One-shot commands print their own results; their logs only need to carry problems.
    level = settings.log.level
    if args.command != "run" and level != "debug":
        level = "warning"
    configure_logging(args.log_format or settings.log.format, level)
    try:
        code = int(args.handler(settings, args))
        sys.stdout.flush()  # a reader that went away shows here, not in the interpreter's exit
        return code
    except BrokenPipeError:
        # `monitor items | head`: the reader has what it wanted. Stop quietly with the status
        # of a tool that SIGPIPE ended (128 + 13, what `set -o pipefail` sees for `yes | head`),
        # after the handler's own cleanup ran (transactions, leases), and point stdout at
        # /dev/null so the interpreter's final flush of what is still buffered is silent too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except CommandError as exc:
        return exc.code
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except AlertError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except ConfigError as exc:  # found only once the daemon sets up (a digest's cron)
        print_problems(exc.problems, what="in the configuration")
        return EXIT_INVALID
    except KeyboardInterrupt:
        return EXIT_FAILURE


def _check_digests(settings: Settings) -> list[tuple[Loc, str]]:
    if not any(target.mode == "digest" for target in settings.targets):
        return []  # nothing to check: spare the listing commands the daemon's imports
    from monitor.daemon import check_digests

    return check_digests(settings)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitor",
        description="Watch news feeds for alignment signals between states.",
    )
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="monitor.yaml to use (default: $MONITOR_CONFIG, else ./monitor.yaml)",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        help="log lines as key=value text or JSON (default: from the config)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_feed_commands(commands)
    add_rule_commands(commands)
    add_web_commands(commands)  # after rules: it adds `rules stats`
    add_alert_commands(commands)
    return parser
