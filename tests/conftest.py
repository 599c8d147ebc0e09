"""Shared fixtures: a real feed server on 127.0.0.1, SQLite and PostgreSQL databases."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from monitor.store import Database
from tests.feedserver import FeedServer

FEEDS_DIR = Path(__file__).parent / "data" / "feeds"
RULES_DIR = Path(__file__).parent / "data" / "rules" / "basic"
# Config lines that point a test's monitor.yaml at the fixture rules, not the shipped ones.
RULES_CONFIG = f'rules_dir: "{RULES_DIR}"\nseeds_dir: "{RULES_DIR / "seeds"}"\n'
PG_ADMIN = os.environ.get("MONITOR_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def feed_server() -> Iterator[FeedServer]:
    with FeedServer(FEEDS_DIR) as server:
        yield server


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards.

    Skips only when no server answers and CI is unset; under CI a missing server fails.
    """
    if not _pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but PostgreSQL does not answer at {PG_ADMIN}")
        pytest.skip(f"no PostgreSQL at {PG_ADMIN}")
    name = f"monitor_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    yield f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def truncate(db: Database) -> None:
    """Empty every table of a PostgreSQL test database."""
    from sqlalchemy import text
    from sqlmodel import SQLModel

    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database: SQLite in a temp dir, and the same tests on PostgreSQL."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'monitor.db'}")
        database.upgrade()
        yield database
        database.dispose()
        return
    database = Database(request.getfixturevalue("pg_url"))
    database.upgrade()
    truncate(database)
    yield database
    database.dispose()
