"""Pieces the dashboard's queries share: a page of rows for keyset pagination (newest
first, continued `before` an id) and a timestamp's UTC day in either dialect."""

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Date, cast, func

from monitor.store.database import Database

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """A page of rows, newest first; `next_before` continues it (None: the last page)."""

    rows: tuple[T, ...]
    next_before: int | None


def utc_day(db: Database, column: Any) -> Any:
    """The UTC day of a timestamp column, in this database's dialect."""
    if db.dialect == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column)  # SQLite keeps UTC timestamps as ISO text
