"""House rules the linters cannot see: the walls between stages, one home per third-party
library, only the CLI prints, small modules, and a README whose module map is the tree.

Each check reads the source with `ast`, so it sees what the code imports and calls, not
what a comment says. The checks are plain functions, and the last tests feed them code that
breaks each wall, so a check that could never fail would show up here.
"""

import ast
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "monitor"
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)
MAX_LINES = 400

STAGES = ("ingest", "engine", "alerts", "store", "cli", "web")
# the composition root: may import anything
ROOT_MODULES = ("app", "pipeline", "reading", "readers", "dispatch", "daemon", "upkeep")
# What each part of the package must not import (its own package is always fine).
WALLS: dict[str, tuple[str, ...]] = {
    "store": ("ingest", "engine", "alerts", "cli", "web", *ROOT_MODULES),
    "engine": ("store", "ingest", "alerts", "cli", "web", *ROOT_MODULES),
    "ingest": ("store", "engine", "alerts", "cli", "web", *ROOT_MODULES),
    "alerts": ("ingest", "cli", "web", *ROOT_MODULES),
    # the dashboard reads the store and the rules; only cli and the root start it
    "web": ("ingest", "cli", *ROOT_MODULES),
    # config, errors, model, yamlpos …: shared by every stage, so they depend on none
    "shared": (*STAGES, *ROOT_MODULES),
}
# Each third-party library and the only modules (or packages, ending in /) that import it.
HOMES: dict[str, tuple[str, ...]] = {
    "feedparser": ("ingest/parse.py",),
    "lxml": ("ingest/xmlfeed.py",),
    "httpx": ("ingest/fetch.py",),
    "selectolax": ("ingest/normalize.py",),
    "pebble": ("ingest/workers.py",),
    "apscheduler": ("daemon.py",),
    "ahocorasick": ("engine/lexicon.py",),
    "re2": ("engine/condition.py",),
    "simplemma": ("engine/lemma.py",),
    "numpy": ("engine/frontcode.py",),
    "py3langid": ("engine/langmodel.py",),
    "ctypes": ("engine/heap.py",),
    "babel": ("engine/cldr.py",),
    "apprise": ("alerts/notify.py",),
    # alert messages, and the dashboard's pages (its own templates, always autoescaped)
    "jinja2": ("alerts/render.py", "web/templates.py"),
    "starlette": ("web/",),
    "uvicorn": ("web/serve.py",),
    "prometheus_client": ("web/metrics.py",),
    "sqlmodel": ("store/",),
    "sqlalchemy": ("store/",),
    "alembic": ("store/",),
    "yaml": ("yamlpos.py",),
    # pydantic validates at the edges: the config, the rule files, and turning its errors
    # into file:line:col problems
    "pydantic": ("config.py", "settings.py", "fields.py", "engine/schema.py", "validation.py"),
}


def part_of(relative: str) -> str:
    """Which wall a module (path relative to monitor/) stands behind."""
    first = relative.split("/", 1)[0].removesuffix(".py")
    if first in STAGES:
        return first
    return "root" if first in ROOT_MODULES or first in ("__init__", "__main__") else "shared"


def imported_modules(source: str) -> set[str]:
    """Every module `source` imports, as dotted names (`from monitor import store` gives
    monitor.store)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "monitor":
                found |= {f"monitor.{alias.name}" for alias in node.names}
    return found


def wall_breaches(relative: str, source: str) -> list[str]:
    """The monitor modules `source` (at `relative`) imports across its wall."""
    part = part_of(relative)
    forbidden = WALLS.get(part, ())
    return sorted(
        name
        for name in imported_modules(source)
        if name.startswith("monitor.") and name.split(".")[1] in forbidden
    )


def library_breaches(relative: str, source: str) -> list[str]:
    """Third-party libraries `source` imports outside their home."""
    bad = []
    for name in imported_modules(source):
        library = name.split(".")[0]
        homes = HOMES.get(library)
        if homes and not any(relative == h or relative.startswith(h) for h in homes):
            bad.append(library)
    return sorted(bad)


def prints(relative: str, source: str) -> list[int]:
    """Lines outside monitor/cli that print or write to stdout."""
    if part_of(relative) == "cli":
        return []
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "print":
                lines.append(node.lineno)
        elif isinstance(node, ast.Attribute) and node.attr == "stdout":
            lines.append(node.lineno)
    return lines


def _sources() -> Iterable[tuple[str, str]]:
    for path in MODULES:
        yield str(path.relative_to(PACKAGE)), path.read_text(encoding="utf-8")


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(module: Path) -> None:
    assert len(module.read_text().splitlines()) <= MAX_LINES


def test_no_stage_imports_across_its_wall() -> None:
    breaches = {rel: bad for rel, src in _sources() if (bad := wall_breaches(rel, src))}

    assert breaches == {}


def test_each_library_lives_in_its_one_home() -> None:
    breaches = {rel: bad for rel, src in _sources() if (bad := library_breaches(rel, src))}

    assert breaches == {}


@pytest.mark.parametrize("library", sorted(HOMES))
def test_each_library_is_used_at_its_home(library: str) -> None:
    # a home nobody imports from means the table above went stale
    users = {rel for rel, src in _sources() if library in _libraries(src)}

    assert users, f"nothing imports {library}"


def test_only_the_cli_prints() -> None:
    printing = {rel: lines for rel, src in _sources() if (lines := prints(rel, src))}

    assert printing == {}


def test_every_package_says_what_it_owns() -> None:
    for package in STAGES:
        doc = ast.get_docstring(ast.parse((PACKAGE / package / "__init__.py").read_text()))
        assert doc and len(doc) > 80, f"monitor/{package}/__init__.py needs a docstring"


def test_the_readme_module_map_is_the_tree() -> None:
    # Given the module map in the README's Development section
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Development", 1)[1].split("```", 2)[1]
    listed = set(re.findall(r"(?m)^\s+([a-z_]+(?:/[a-z_]+)*(?:\.py|/))\s", section))

    # When it is compared with the package on disk
    tree = {
        str(p.relative_to(PACKAGE))
        for p in MODULES
        if p.name != "__init__.py" and p.name != "__main__.py"
    }
    packages = {f"{d.name}/" for d in PACKAGE.iterdir() if (d / "__init__.py").exists()}
    named = {entry for entry in listed if not entry.endswith("/")}
    qualified = {
        f"{pkg}{name}" for pkg in packages for name in named if (PACKAGE / pkg / name).exists()
    }

    # Then every module and package is listed, and nothing listed is missing
    top = {name for name in named if (PACKAGE / name).exists()}
    assert packages <= listed, packages - listed
    assert tree <= top | qualified, tree - (top | qualified)
    assert named <= {Path(t).name for t in tree}, named - {Path(t).name for t in tree}


def _libraries(source: str) -> set[str]:
    return {name.split(".")[0] for name in imported_modules(source)}


# --- the checks themselves can fail --------------------------------------------------------


@pytest.mark.parametrize(
    ("relative", "source", "expected"),
    [
        ("store/feeds.py", "from monitor.engine.match import match_item", ["monitor.engine.match"]),
        ("store/feeds.py", "from monitor import alerts", ["monitor.alerts"]),
        ("store/polls.py", "import monitor.pipeline", ["monitor.pipeline"]),
        ("engine/match.py", "from monitor import store", ["monitor.store"]),
        (
            "engine/match.py",
            "from monitor.ingest.parse import parse_feed",
            ["monitor.ingest.parse"],
        ),
        ("ingest/parse.py", "from monitor.engine.lexicon import fold", ["monitor.engine.lexicon"]),
        ("ingest/fetch.py", "from monitor.store import Database", ["monitor.store"]),
        ("alerts/sender.py", "from monitor.cli.context import open_db", ["monitor.cli.context"]),
        ("model.py", "from monitor.engine.ruleset import Rule", ["monitor.engine.ruleset"]),
        ("pipeline.py", "from monitor.engine.match import match_items", []),
        ("alerts/sender.py", "from monitor import store", []),
        ("alerts/sender.py", "from monitor.web import create_app", ["monitor.web"]),
        ("store/feedback.py", "from monitor.web.charts import chart", ["monitor.web.charts"]),
        ("web/pages.py", "from monitor.ingest.fetch import Fetcher", ["monitor.ingest.fetch"]),
        ("web/pages.py", "from monitor.cli.context import open_db", ["monitor.cli.context"]),
        ("web/pages.py", "from monitor.engine.ruleset import RuleSet", []),
        ("cli/web.py", "from monitor.web import serve", []),
    ],
)
def test_a_wall_breach_is_caught(relative: str, source: str, expected: list[str]) -> None:
    assert wall_breaches(relative, source) == expected


@pytest.mark.parametrize(
    ("relative", "source", "expected"),
    [
        ("pipeline.py", "import feedparser", ["feedparser"]),
        ("engine/match.py", "from sqlalchemy import select", ["sqlalchemy"]),
        ("alerts/sender.py", "import apprise", ["apprise"]),
        ("cli/rules.py", "from pydantic import BaseModel", ["pydantic"]),
        ("store/polls.py", "from sqlalchemy import select", []),
    ],
)
def test_a_library_outside_its_home_is_caught(
    relative: str, source: str, expected: list[str]
) -> None:
    assert library_breaches(relative, source) == expected


def test_a_print_outside_the_cli_is_caught() -> None:
    source = "import sys\nprint('x')\nsys.stdout.write('y')\n"

    assert prints("engine/match.py", source) == [2, 3]
    assert prints("cli/feeds.py", source) == []
