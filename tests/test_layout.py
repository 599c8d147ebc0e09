"""House rules the linters cannot see: module size, one home per third-party library."""

import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "monitor"
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)
MAX_LINES = 400


@pytest.mark.parametrize("module", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_stay_small(module: Path) -> None:
    assert len(module.read_text().splitlines()) <= MAX_LINES


@pytest.mark.parametrize(
    ("library", "home"),
    [
        ("feedparser", "parse.py"),
        ("httpx", "fetch.py"),
        ("apscheduler", "schedule.py"),
        ("selectolax", "normalize.py"),
        ("sqlmodel", "store"),
        ("sqlalchemy", "store"),
        ("alembic", "store"),
    ],
)
def test_each_library_lives_in_one_place(library: str, home: str) -> None:
    importers = {
        str(p.relative_to(PACKAGE))
        for p in MODULES
        if re.search(rf"^\s*(import|from) {library}\b", p.read_text(), re.MULTILINE)
    }

    assert importers and all(i == home or i.startswith(home + "/") for i in importers), importers
