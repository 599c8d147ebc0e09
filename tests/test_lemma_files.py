"""Lemma dictionaries as shared files: the same answers as in memory, rewritten when damaged,
kept in memory when they cannot be written, and read by the daemon's readers without
holding them in their own memory."""

import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import version
from pathlib import Path

import pytest
from simplemma.strategies.dictionaries import frontcode as stream
from simplemma.strategies.dictionaries.dictionary_factory import _read_decompressed

from monitor import store
from monitor.engine import frontcode, lemma, lemmafiles
from monitor.store import Database
from tests.feedserver import FeedServer

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = "fr"  # the smallest dictionary the rules use


def _in_memory(language: str) -> lemma._Dictionary:
    data = _read_decompressed(language)
    reverse, count, first = stream._read_header(data)
    seeds = frontcode.index(data, first, count)
    assert seeds is not None
    return lemma._Dictionary(lemma._InMemory(data, first, seeds), reverse, count)


def _opened(folder: Path | None, language: str = LANGUAGE) -> lemma._Dictionary:
    """A dictionary opened as the lemmatizer opens one, with files in `folder`."""
    lemma.use_dictionary_files(folder)
    try:
        opened = lemma._Dictionaries()._get_dictionary_uncached(language)
    finally:
        lemma.use_dictionary_files(None)
    assert isinstance(opened, lemma._Dictionary)
    return opened


@pytest.fixture(scope="module")
def reference() -> lemma._Dictionary:
    return _in_memory(LANGUAGE)


def _same_answers(ours: lemma._Dictionary, theirs: lemma._Dictionary) -> None:
    keys = list(theirs)[::7]
    assert len(ours) == len(theirs)
    assert [ours._lookup(k) for k in keys] == [theirs._lookup(k) for k in keys]
    # keys that are not there: past the last one, before the first, between two
    misses = [k + "qx" for k in keys[::10]] + ["", "\uffff" * 3, "0"]
    assert [ours._lookup(k) for k in misses] == [theirs._lookup(k) for k in misses]


def test_a_dictionary_read_from_its_file_answers_every_lookup_as_the_one_in_memory(
    tmp_path: Path, reference: lemma._Dictionary
) -> None:
    from_file = _opened(tmp_path)

    assert isinstance(from_file._blocks, lemmafiles.DictionaryFile)  # the file, not a copy
    _same_answers(from_file, reference)
    assert list(from_file) == list(reference)  # every key, in order, block after block


@pytest.mark.parametrize("damage", ["truncated", "other version", "garbage"])
def test_a_damaged_file_is_written_again(
    tmp_path: Path, reference: lemma._Dictionary, damage: str
) -> None:
    _opened(tmp_path)
    path = lemmafiles.path_of(tmp_path, LANGUAGE)
    whole = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(whole[: len(whole) // 2])
    elif damage == "other version":
        path.write_bytes(whole.replace(version("simplemma").encode(), b"0.0.0", 1))
    else:
        path.write_bytes(os.urandom(len(whole)))
    assert lemmafiles.open_file(tmp_path, LANGUAGE) is None

    again = _opened(tmp_path)

    assert path.read_bytes() == whole
    _same_answers(again, reference)


def test_a_file_damaged_after_its_check_answers_missing_and_says_so_once(
    tmp_path: Path, reference: lemma._Dictionary, caplog: pytest.LogCaptureFixture
) -> None:
    _opened(tmp_path)
    path = lemmafiles.path_of(tmp_path, LANGUAGE)
    whole = bytearray(path.read_bytes())
    # the blocks of the file's first half become garbage; its header and indexes stay whole
    whole[1000 : len(whole) // 2] = os.urandom(len(whole) // 2 - 1000)
    path.write_bytes(bytes(whole))
    keys = list(reference)[::97]

    with caplog.at_level(logging.ERROR, logger="monitor.engine.lemma"):
        damaged = _opened(tmp_path)
        answers = [damaged._lookup(k) for k in keys]  # never raises

    expected = [reference._lookup(k) for k in keys]
    half = len(keys) // 2
    assert answers[-half // 2 :] == expected[-half // 2 :]  # the whole half answers as before
    assert answers != expected  # the damaged half cannot
    [record] = [r for r in caplog.records if "damaged" in r.getMessage()]
    assert record.path == str(path)  # type: ignore[attr-defined]


def test_a_killed_writers_temporary_file_is_removed_and_a_live_ones_is_not(
    tmp_path: Path,
) -> None:
    killed, live = tmp_path / f".{LANGUAGE}-killed", tmp_path / f".{LANGUAGE}-live"
    for path in (killed, live):
        path.write_bytes(b"half a file")
    os.utime(killed, (time.time() - 7200, time.time() - 7200))

    _opened(tmp_path)

    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [live.name, lemmafiles.path_of(tmp_path, LANGUAGE).name]
    )


def test_a_folder_that_cannot_be_written_keeps_the_dictionary_in_memory(
    tmp_path: Path, reference: lemma._Dictionary, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    folder = blocker / "cache"

    with caplog.at_level(logging.WARNING, logger="monitor.engine.lemma"):
        kept = _opened(folder)

    assert isinstance(kept._blocks, lemma._InMemory)
    _same_answers(kept, reference)
    [record] = [r for r in caplog.records if "cannot write" in r.getMessage()]
    assert (record.language, record.folder) == (LANGUAGE, str(folder))  # type: ignore[attr-defined]


def _open_and_look_up(folder: Path, keys: list[str]) -> list[str | None]:
    opened = _opened(folder)
    return [opened._lookup(k) for k in keys]


def test_processes_that_open_a_language_at_once_each_get_a_whole_file(
    tmp_path: Path, reference: lemma._Dictionary
) -> None:
    keys = list(reference)[::301]
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(4, mp_context=context) as pool:
        answers = list(pool.map(_open_and_look_up, [tmp_path] * 8, [keys] * 8))

    assert answers == [[reference._lookup(k) for k in keys]] * 8
    assert [p.name for p in tmp_path.iterdir()] == [lemmafiles.path_of(tmp_path, LANGUAGE).name]
    _same_answers(_opened(tmp_path), reference)


def _readers_of(daemon: int) -> list[int]:
    """The daemon's descendants (the forkserver and the readers it forked)."""
    found, frontier = [], [daemon]
    while frontier:
        parent = frontier.pop()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                found.append(int(entry.name))
                frontier.append(int(entry.name))
    return found


def _reading(pid: int, path: Path) -> bool:
    """Whether the process has the file open (and not mapped: its pages stay out of the
    process's own memory)."""
    try:
        opened = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
        mapped = str(path) in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False
    assert not mapped
    return str(path) in opened


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
def test_the_daemons_readers_match_with_the_shared_files_and_a_restart_reuses_them(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    cache = tmp_path / "cache"
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    feed_server.set_feed(
        "pl.xml",
        b"<rss version='2.0'><channel><language>pl</language><item><guid>1</guid>"
        + "<title>Korea Północna przekazała Rosji pociski balistyczne</title>".encode()
        + b"</item></channel></rss>",
    )
    config = tmp_path / "monitor.yaml"
    config.write_text(
        f'database_url: "{url}"\nrules_dir: "{ROOT / "rules"}"\nseeds_dir: "{ROOT / "seeds"}"\n'
        f'cache_dir: "{cache}"\nschedule: {{tick: 0.1s, readers: 2}}\n'
        f'feeds:\n  - {{name: pl, url: "{feed_server.url("/feeds/pl.xml")}", interval: 1h}}\n',
        encoding="utf-8",
    )
    polish = lemmafiles.path_of(cache, "pl")
    db = Database(url)
    inodes = []
    try:
        for _ in range(2):
            daemon = subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(config), "run"],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            try:
                deadline = time.monotonic() + 90
                while not (
                    db.is_current()
                    and store.recent_matches(db, 10)
                    and any(_reading(p, polish) for p in _readers_of(daemon.pid))
                ):
                    assert daemon.poll() is None, daemon.communicate()[0]
                    assert time.monotonic() < deadline, "no match, or no reader reads the file"
                    time.sleep(0.2)
                inodes.append(polish.stat().st_ino)
            finally:
                daemon.send_signal(signal.SIGTERM)
                output, _ = daemon.communicate(timeout=30)
            assert daemon.returncode == 0, output
            assert "cannot write" not in output
        matches = store.recent_matches(db, 10)
    finally:
        db.dispose()

    assert [m.rule for m in matches] == ["ru-dprk-arms"]  # the second run stored no repeat
    assert inodes[0] == inodes[1]  # the restart read the file the first run wrote
    assert not [p for p in cache.iterdir() if p.name.startswith(".")]  # no temporary left
