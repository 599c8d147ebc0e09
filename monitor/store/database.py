"""The engine: SQLite (WAL) or PostgreSQL by URL, sessions, and Alembic migrations."""

import getpass
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, text, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SQLAlchemyError
from sqlmodel import Session, SQLModel, create_engine

if TYPE_CHECKING:
    from alembic.config import Config

from monitor.errors import StoreError
from monitor.redact import redact_url
from monitor.store.tables import table_of

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Revisions are numbered in order and named after their file ("0005_reliability.py" holds
# revision "0005"), so the newest is known without Alembic; a test holds the two to agree.
HEAD = max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))
_LOCK = 0x6D6F6E69746F72  # "monitor": the advisory lock that serialises migrations


class Database:
    """Owns the engine. Every query runs in a short session from `session()`."""

    def __init__(self, url: str) -> None:
        self.url = _normalized_url(url)
        try:
            self.dialect = make_url(self.url).get_backend_name()
        except ArgumentError as exc:
            raise StoreError(
                f"invalid database URL {redact_url(self.url)}: use sqlite:///path/to/file.db "
                "or postgresql://user:password@host:5432/name"
            ) from exc
        options: dict[str, Any] = {"pool_pre_ping": True}
        if self.dialect == "sqlite":
            _ensure_parent_dir(self.url)
            options["connect_args"] = {"timeout": 30, "check_same_thread": False}
        try:
            self.engine: Engine = create_engine(self.url, **options)
        except (ArgumentError, ImportError) as exc:
            raise StoreError(f"invalid database URL {redact_url(self.url)}: {exc}") from exc
        # SQLite has one writer at a time and its busy handler sleeps in steps of up to
        # 100 ms, so concurrent writers queue here instead (measured: 10x faster cycles);
        # readers (`reading`) never do.
        self._one_at_a_time: AbstractContextManager[object] = nullcontext()
        if self.dialect == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            self._one_at_a_time = threading.Lock()
        else:
            event.listen(self.engine, "connect", _binary_arrays)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error.

        Raises:
            StoreError: the database is unreachable or a statement failed.
        """
        try:
            with (
                self._one_at_a_time,
                Session(self.engine, expire_on_commit=False) as session,
                session.begin(),
            ):
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(describe_error(self.url, exc)) from exc

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only: never waits for writers (SQLite in WAL mode reads a
        snapshot while one connection writes), and changes nothing.

        Raises:
            StoreError: the database is unreachable or a statement failed.
        """
        try:
            # closing returns the connection to the pool, which rolls it back; objects read
            # stay loaded (a rollback here would expire them)
            with Session(self.engine, expire_on_commit=False) as session:
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(describe_error(self.url, exc)) from exc

    def lock(self, session: Session, name: str) -> None:
        """Hold the lock `name` until `session` ends, so that read-then-write steps (feed
        sync, story assignment) run one at a time across every daemon and worker. On
        PostgreSQL a transaction-scoped advisory lock; on SQLite the write lock that every
        writing session takes already serialises them."""
        if self.dialect == "postgresql":
            key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})

    def lease(self, table: Any, due: Any, owner: str, until: datetime) -> Any:
        """UPDATE `table` SET the lease WHERE id IN (`due`): one statement, so two daemons never
        lease the same row; on PostgreSQL the rows are picked FOR UPDATE SKIP LOCKED, on SQLite
        the statement holds the write lock."""
        if self.dialect == "postgresql":
            due = due.with_for_update(skip_locked=True)
        return (
            update(table)
            .where(table.id.in_(due.scalar_subquery()))
            .values(lease_owner=owner, lease_until=until)
        )

    def upgrade(self) -> None:
        """Apply every pending migration (idempotent). A schema that is current costs one
        query: Alembic is imported only when there is something to apply, which keeps the
        listing commands' start-up short (Alembic and Mako take ~0.1 s to import)."""
        if self.is_current():
            return
        from alembic import command

        try:
            with self.engine.begin() as connection:
                if self.dialect == "postgresql":
                    # Daemons starting together would race to create the same tables; the
                    # lock makes the second wait, then find the schema current.
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
                config = _alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot migrate: {describe_error(self.url, exc)}") from exc

    def is_current(self) -> bool:
        """True when the schema is at the newest migration (`HEAD`).

        Raises:
            StoreError: the database is unreachable.
        """
        try:
            with self.engine.connect() as connection:
                if not inspect(connection).has_table("alembic_version"):
                    return False
                current = connection.execute(text("SELECT version_num FROM alembic_version"))
                return [row[0] for row in current] == [HEAD]
        except SQLAlchemyError as exc:
            raise StoreError(describe_error(self.url, exc)) from exc

    def dispose(self) -> None:
        self.engine.dispose()


def insert_for(dialect: str, model: type[SQLModel]) -> Any:
    """An INSERT into `model`'s table that can say ON CONFLICT in `dialect`. PostgreSQL's
    construct is imported on PostgreSQL only: SQLite users' commands skip its ~20 ms of
    imports.

    The statement is on the table, not the model: run with a list of rows it is a plain
    executemany, where an INSERT of the model would take SQLAlchemy's ORM bulk path, which
    checks every value of every row (a third of the time of a poll with 30 new items)."""
    table = table_of(model)
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def _alembic_config() -> "Config":
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _normalized_url(url: str) -> str:
    # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def describe_error(url: str, exc: SQLAlchemyError) -> str:
    """One line that names the database and says what went wrong, without a traceback or
    SQLAlchemy's boilerplate (its "Background on this error" link, the SQL statement)."""
    detail = getattr(exc, "orig", None) or exc
    first = str(detail).strip().splitlines()[0] if str(detail).strip() else type(exc).__name__
    if isinstance(exc, IntegrityError):
        first = f"a write conflicted with existing data ({first})"
    where = redact_url(url)
    if url.startswith("sqlite") and "unable to open database file" in first:
        path = make_url(url).database or "?"
        first = f"cannot open the database file {path}: {_access_hint(Path(path))}"
    return f"database {where}: {first}"


def _access_hint(path: Path) -> str:
    """Why a file cannot be opened or created, as far as the file system tells."""
    folder = path.parent
    user = getpass.getuser()
    if not folder.exists():
        return f"its folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"its folder {folder} is not writable by user {user}"
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        return f"the file is not readable and writable by user {user}"
    return "the file system refused it"


def _ensure_parent_dir(url: str) -> None:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    folder = Path(database).expanduser().parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise StoreError(
            f"cannot create the data folder {folder} for {redact_url(url)}: {reason} "
            f"(running as user {getpass.getuser()})"
        ) from exc


def _binary_arrays(connection: Any, _record: Any) -> None:
    """Lists (the columns of a poll's items: see `polls`) go to PostgreSQL in the binary
    array format, which psycopg writes without escaping every element as its text format
    does (the text format took a tenth of the time of storing a poll)."""
    from psycopg.types.array import ListBinaryDumper

    connection.adapters.register_dumper(list, ListBinaryDumper)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
