"""What the `monitor` command loads before it answers: a listing command needs the store and
the settings, never the engine, the notifiers, the scheduler or Alembic (the engine alone is
~0.3 s of imports; bench/README.md, "Listing commands", has the timings); a poll's own
process leaves the parsers and the language model to its readers (~11 MB it does not hold)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from monitor import store
from monitor.store import Database
from tests.conftest import RULES_CONFIG
from tests.feedserver import FeedServer

ROOT = Path(__file__).resolve().parent.parent

# What the daemon and the rules commands need, and listing must not wait for.
HEAVY = (
    "alembic",
    "apprise",
    "apscheduler",
    "feedparser",
    "httpx",
    "jinja2",
    "lxml",
    "numpy",
    "py3langid",
    "simplemma",
    "starlette",
    "monitor.engine",
    "monitor.app",
    "monitor.daemon",
    "sqlalchemy.dialects.postgresql",
)

# Runs the installed entry point in a fresh interpreter, then reports what it imported.
PROBE = """\
import json, sys
from monitor.__main__ import run
sys.argv = ["monitor", *sys.argv[1:]]
code = run()
heavy = json.loads(HEAVY)
loaded = sorted(m for m in heavy if m in sys.modules)
print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "monitor.yaml"
    path.write_text(
        f'database_url: "sqlite:///{tmp_path / "monitor.db"}"\n{RULES_CONFIG}feeds:\n'
        '  - {name: wire, url: "http://127.0.0.1:9/feed.xml"}\n',
        encoding="utf-8",
    )
    return path


def loaded_by(config: Path, *argv: str, modules: tuple[str, ...] = HEAVY) -> list[str]:
    script = PROBE.replace("HEAVY", repr(json.dumps(modules)))
    done = subprocess.run(
        [sys.executable, "-c", script, "--config", str(config), *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["code"] == 0, done.stderr
    loaded: list[str] = report["loaded"]
    return loaded


@pytest.mark.parametrize(
    "argv",
    [("feeds",), ("items",), ("matches",), ("alerts",), ("silence", "list"), ("db", "upgrade")],
)
def test_listing_commands_load_only_the_store(config: Path, argv: tuple[str, ...]) -> None:
    loaded_by(config, "db", "upgrade")  # a first run creates the schema (Alembic, once)

    assert loaded_by(config, *argv) == []


def test_a_fresh_database_is_migrated_by_a_listing_command(config: Path) -> None:
    assert "alembic" in loaded_by(config, "items")


def test_the_rules_commands_still_load_the_engine(config: Path) -> None:
    assert "monitor.engine" in loaded_by(config, "rules", "check")


# What only a reader uses: parsing, text clean-up, the language model and the array passes.
READING = ("feedparser", "lxml", "selectolax", "numpy", "py3langid", "monitor.ingest.document")


def test_a_poll_reads_and_matches_in_its_readers_and_its_own_process_loads_no_parser(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.set_feed(
        "undeclared.xml",
        (
            "<rss version='2.0'><channel><item><guid>1</guid>"
            "<title>Korea Północna przekazała Rosji pociski balistyczne</title>"
            "<description>&lt;p&gt;Pociski trafiły do rosyjskich jednostek.&lt;/p&gt;"
            "</description></item></channel></rss>"
        ).encode(),
    )
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f'database_url: "{url}"\nrules_dir: "{ROOT / "rules"}"\nseeds_dir: "{ROOT / "seeds"}"\n'
        f'cache_dir: "{tmp_path / "cache"}"\nschedule: {{readers: 1}}\nfeeds:\n'
        f'  - {{name: wire, url: "{feed_server.url("/feeds/undeclared.xml")}"}}\n',
        encoding="utf-8",
    )

    loaded = loaded_by(config, "poll", modules=READING)

    assert loaded == []
    db = Database(url)
    try:
        assert [m.rule for m in store.recent_matches(db, 10)] == ["ru-dprk-arms"]
    finally:
        db.dispose()
