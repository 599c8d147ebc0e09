"""Loading settings: monitor.yaml plus MONITOR_* environment variables, validated once
(every problem at once, each at its file:line:col), relative paths anchored, then frozen.

The only module that reads the environment. Everything else receives a `Settings`
(whose shape is `monitor.settings`).
"""

import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from monitor import validation, yamlpos
from monitor.errors import ConfigError, InvalidFile, Problem
from monitor.settings import Settings

ENV_PREFIX = "MONITOR_"
ENV_CONFIG = "MONITOR_CONFIG"
DEFAULT_CONFIG = Path("monitor.yaml")


# A check another module runs on valid settings (a digest's cron, which only APScheduler
# can judge): each problem as the key path it concerns and a message.
Check = Callable[[Settings], list[tuple[yamlpos.Loc, str]]]


def load_settings(
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    optional: bool = False,
    checks: Sequence[Check] = (),
) -> Settings:
    """Read monitor.yaml (from `path`, $MONITOR_CONFIG, else ./monitor.yaml) and MONITOR_*.

    With `optional`, a missing default ./monitor.yaml means the built-in defaults (commands
    such as `rules check` need no feeds); a file named explicitly must still exist.
    Relative paths (rules_dir, seeds_dir, templates_dir, a SQLite file) are read from the
    config file's folder; those given in the environment, from the working directory.
    `checks` run on the valid settings; their problems point into the file like the rest.

    Raises:
        ConfigError: every problem found, each with file:line:col or the variable's name.
    """
    env = os.environ if environ is None else environ
    explicit = path or (Path(env[ENV_CONFIG]) if env.get(ENV_CONFIG) else None)
    chosen = explicit or DEFAULT_CONFIG
    if not chosen.exists() and optional and explicit is None:
        chosen = Path(os.devnull)
    elif not chosen.exists():
        where = f"{chosen}" if explicit else f"{chosen} (default; use --config or {ENV_CONFIG})"
        raise ConfigError([Problem(None, "config file not found", where=where)])
    try:
        doc = yamlpos.load_file(chosen)
    except InvalidFile as exc:
        raise ConfigError(exc.problems) from exc
    if doc.value is None:
        doc = yamlpos.Located({}, doc.path, doc.positions)
    if not isinstance(doc.value, dict):
        raise ConfigError([Problem(doc.pos_of(()), "the top level must be a mapping of settings")])
    data, from_env = _apply_environment(doc.value, env)
    _resolve_web_token(data, env)
    problems = _duplicates(data, doc) + _resolve_secrets(data, doc, env)
    try:
        settings = Settings.model_validate({**data, "source": str(chosen)})
    except ValidationError as exc:
        problems += [_problem(err, doc, from_env) for err in exc.errors()]
    else:
        base = chosen.parent if chosen != Path(os.devnull) else Path.cwd()
        settings = _anchored(settings, base.absolute(), from_env)
        for check in (_feed_health_targets, *checks):
            problems += [_located(loc, message, doc, from_env) for loc, message in check(settings)]
    if problems:
        raise ConfigError(sorted(problems, key=_order))
    return settings


def _anchored(settings: Settings, base: Path, from_env: Mapping[tuple[str, ...], str]) -> Settings:
    """`settings` with relative paths made absolute: against `base` (the config file's
    folder) when they come from the file or the defaults, against the working directory when
    they come from the environment."""

    def anchor(path: Path, *keys: str) -> Path:
        if path.is_absolute():
            return path
        return (Path.cwd() if keys in from_env else base) / path

    alerts = settings.alerts
    if alerts.templates_dir is not None:
        templates = anchor(alerts.templates_dir, "alerts", "templates_dir")
        alerts = alerts.model_copy(update={"templates_dir": templates})
    return settings.model_copy(
        update={
            "rules_dir": anchor(settings.rules_dir, "rules_dir"),
            "seeds_dir": anchor(settings.seeds_dir, "seeds_dir"),
            "cache_dir": settings.cache_dir and anchor(settings.cache_dir, "cache_dir"),
            "alerts": alerts,
            "database_url": _anchored_sqlite(
                settings.database_url, lambda p: anchor(p, "database_url")
            ),
        }
    )


def _anchored_sqlite(url: str, anchor: Callable[[Path], Path]) -> str:
    """A SQLite URL whose relative file path (sqlite:///data/x.db) is made absolute."""
    scheme, sep, rest = url.partition(":///")
    if not sep or not scheme.startswith("sqlite") or rest.startswith(("/", ":memory:", "file:")):
        return url
    path, query_sep, query = rest.partition("?")
    if not path:
        return url
    return f"{scheme}:///{anchor(Path(path))}{query_sep}{query}"


def _feed_health_targets(settings: Settings) -> list[tuple[yamlpos.Loc, str]]:
    names = {t.name for t in settings.targets}
    return [
        (
            ("feed_health", "notify", i),
            f"feed_health.notify[{i}]: no target named '{name}'"
            + (f" (targets: {', '.join(sorted(names))})" if names else " (no targets configured)"),
        )
        for i, name in enumerate(settings.feed_health.notify)
        if name not in names
    ]


def _located(
    loc: yamlpos.Loc, message: str, doc: yamlpos.Located, from_env: Mapping[tuple[str, ...], str]
) -> Problem:
    for keys, var in from_env.items():
        if tuple(loc[: len(keys)]) == keys:
            return Problem(None, message, where=f"{var} (environment)")
    return Problem(doc.pos_of(loc), message)


def _apply_environment(
    data: dict[str, Any], env: Mapping[str, str]
) -> tuple[dict[str, Any], dict[tuple[str, ...], str]]:
    """Overlay MONITOR_SECTION__KEY=value on the file's data; remember which keys came from env.

    Variables whose first part names no setting (MONITOR_SLACK_URL …) are left alone: they are
    secrets that other settings refer to by name.
    """
    merged: dict[str, Any] = dict(data)
    sources: dict[tuple[str, ...], str] = {}
    top_keys = set(Settings.model_fields) - {"source"}
    for var in sorted(env):
        if not var.startswith(ENV_PREFIX) or var == ENV_CONFIG:
            continue
        keys = tuple(var[len(ENV_PREFIX) :].lower().split("__"))
        if keys[0] not in top_keys:
            continue
        node = merged
        for key in keys[:-1]:
            child = node.get(key)
            node[key] = dict(child) if isinstance(child, dict) else {}
            node = node[key]
        node[keys[-1]] = yamlpos.load_scalar(env[var])
        sources[keys] = var
    return merged, sources


def _resolve_secrets(
    data: dict[str, Any], doc: yamlpos.Located, env: Mapping[str, str]
) -> list[Problem]:
    """Put each target's Apprise URLs (or config file) from the environment into `data`."""
    problems: list[Problem] = []
    targets = data.get("targets")
    if not isinstance(targets, list):
        return problems
    for i, target in enumerate(targets):
        if not isinstance(target, dict):
            continue
        for key, into in (("urls_env", "urls"), ("config_env", "config_file")):
            var = target.get(key)
            if not isinstance(var, str):
                continue
            value = env.get(var, "").strip()
            if not value:
                problems.append(
                    Problem(
                        doc.pos_of(("targets", i, key)),
                        f"targets[{i}].{key}: environment variable {var} is not set",
                    )
                )
            elif into == "urls":
                target["urls"] = [u for u in re.split(r"[\s,]+", value) if u]
            else:
                target["config_file"] = value
    return problems


def _resolve_web_token(data: dict[str, Any], env: Mapping[str, str]) -> None:
    """Put the dashboard's write token from the variable `web.token_env` names into `data`
    (no token when it is unset: then only same-origin sessions on loopback may write)."""
    web = data.get("web")
    if web is not None and not isinstance(web, dict):
        return  # not a mapping: validation reports it
    web = dict(web or {})
    var = web.get("token_env", "MONITOR_WEB_TOKEN")
    value = env.get(var, "").strip() if isinstance(var, str) else ""
    if value:
        web["token"] = value
        data["web"] = web


def _duplicates(data: dict[str, Any], doc: yamlpos.Located) -> list[Problem]:
    problems: list[Problem] = []
    for section, field in (("feeds", "name"), ("feeds", "url"), ("targets", "name")):
        entries = data.get(section)
        if not isinstance(entries, list):
            continue
        seen: dict[str, int] = {}
        for i, entry in enumerate(entries):
            value = entry.get(field) if isinstance(entry, dict) else None
            if not isinstance(value, str):
                continue
            if value in seen:
                first = doc.pos_of((section, seen[value], field))
                problems.append(
                    Problem(
                        doc.pos_of((section, i, field)),
                        f"{section}[{i}].{field}: duplicate {section[:-1]} {field} '{value}' "
                        f"(first at line {first.line})",
                    )
                )
            else:
                seen[value] = i
    return problems


def _problem(err: Any, doc: yamlpos.Located, from_env: dict[tuple[str, ...], str]) -> Problem:
    loc, message = validation.describe(err, Settings, unknown="unknown setting")
    return _located(loc, message, doc, from_env)


def _order(problem: Problem) -> tuple[int, str, int, int]:
    if problem.pos is None:  # environment problems after the file's
        return (1, problem.where, 0, 0)
    return (0, problem.pos.path, problem.pos.line, problem.pos.col)
