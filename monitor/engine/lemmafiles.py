"""Lemma dictionaries kept as files that every process maps into memory, instead of a copy
of its own in each.

A dictionary opened in memory costs a process its whole decompressed stream and block index
(20–40 MB for Polish), and every reader holds one of each language it has met. Written once
to a file (per simplemma version) and mapped read-only, it is one copy in the page cache,
shared by all the processes that open it (each counts the pages its lookups touched; a
lookup reads one block of 32 records), and opening it again takes no decompression and no
indexing. A header naming the format, the simplemma version and the sizes fills the first
page; the stream follows as it is, so simplemma's record reader reads it unchanged; the
index comes last.

The only module that writes or maps these files. A file that is not exactly what it should be
(another version or format, cut short) is written again.
"""

import mmap
import os
import struct
import tempfile
import time
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from monitor.engine.frontcode import Seeds

_FORMAT = 1  # in the file's name too: another format is another file, not one to fight over
_MAGIC = f"monitor-lemmas-{_FORMAT}".encode()
# the first page: the magic, simplemma's version, then reverse, count, first, the stream's
# length, the blocks, key width, value width and the index's size; the stream starts on the
# next page and the index on the page after the stream, since a mapping starts on a page
_HEADER = struct.Struct("<16s32s8q")
_PAGE = mmap.ALLOCATIONGRANULARITY
_STALE = 3600.0  # seconds after which a temporary file is a killed writer's


@dataclass(frozen=True, slots=True)
class Mapped:
    """One language's dictionary as mapped: its stream and its block index."""

    data: mmap.mmap  # the stream alone (slices are bytes, as simplemma's reader expects)
    reverse: bool
    count: int
    first: int
    seeds: "MappedSeeds"


class _Firsts(Sequence[bytes]):
    """Each block's first key, read from the mapped index (for `bisect`)."""

    __slots__ = ("_index", "_offsets")

    def __init__(self, index: mmap.mmap, offsets: memoryview) -> None:
        self._index, self._offsets = index, offsets

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, block: int) -> bytes:  # type: ignore[override]  # no slices
        if block < 0:
            block += len(self)
        return self._index[self._offsets[block] : self._offsets[block + 1]]


@dataclass(frozen=True, slots=True)
class MappedSeeds:
    """`frontcode.Seeds`, read from the mapped index."""

    firsts: _Firsts
    index: mmap.mmap
    starts: memoryview
    keys_at: int
    key_lengths: memoryview
    key_width: int
    values_at: int
    value_lengths: memoryview
    value_width: int

    def seed(self, block: int) -> tuple[int, bytes, bytes]:
        key_at = self.keys_at + block * self.key_width
        value_at = self.values_at + block * self.value_width
        return (
            self.starts[block],
            self.index[key_at : key_at + self.key_lengths[block]],
            self.index[value_at : value_at + self.value_lengths[block]],
        )


def path_of(folder: Path, language: str) -> Path:
    return folder / f"{language}-{version('simplemma')}-{_FORMAT}.lemmas"


def open_mapped(folder: Path, language: str) -> Mapped | None:
    """The language's dictionary file mapped, or None when there is none or it is not
    exactly what `write` makes for this simplemma version."""
    try:
        with path_of(folder, language).open("rb") as file:
            return _map(file.fileno(), os.fstat(file.fileno()).st_size)
    except (OSError, ValueError, struct.error):
        return None


def write(
    folder: Path, language: str, data: bytes, reverse: bool, count: int, first: int, seeds: Seeds
) -> None:
    """Write the dictionary's file, atomically: a process opening it meanwhile sees the old
    file or none, and two writers at once both write whole files.

    Raises:
        OSError: the folder cannot be made or written to.
    """
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale(folder, language)
    blocks = len(seeds.firsts)
    layout = _Layout(blocks, seeds.key_width, seeds.value_width)
    offsets = array("q", [layout.firsts_at])
    for key in seeds.firsts:
        offsets.append(offsets[-1] + len(key))
    index = [
        offsets.tobytes(),
        array("q", seeds.starts).tobytes(),
        array("q", seeds.key_lengths).tobytes(),
        array("q", seeds.value_lengths).tobytes(),
        seeds.keys,
        seeds.values,
        *seeds.firsts,
    ]
    fields = (reverse, count, first, len(data), blocks, seeds.key_width, seeds.value_width)
    header = _HEADER.pack(_MAGIC, version("simplemma").encode(), *fields, offsets[-1])
    pages = (header, b"\0" * (_PAGE - len(header)), data, b"\0" * (-len(data) % _PAGE))
    with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{language}-", delete=False) as file:
        try:
            os.fchmod(file.fileno(), 0o644)  # what the library ships: anyone may read it
            file.writelines((*pages, *index))
            file.flush()
            os.fsync(file.fileno())  # a file renamed in place is whole, even after a crash
        except BaseException:
            os.unlink(file.name)
            raise
    os.replace(file.name, path_of(folder, language))


def _remove_stale(folder: Path, language: str) -> None:
    """Temporary files a killed writer left (one still being written is younger)."""
    for stale in folder.glob(f".{language}-*"):
        try:
            if time.time() - stale.stat().st_mtime > _STALE:
                stale.unlink()
        except OSError:  # gone already, or not ours to remove: harmless either way
            continue


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where each part of the index starts, from the start of the index."""

    blocks: int
    key_width: int
    value_width: int

    @property
    def starts_at(self) -> int:
        return 8 * (self.blocks + 1)  # after the first keys' offsets

    @property
    def key_lengths_at(self) -> int:
        return self.starts_at + 8 * self.blocks

    @property
    def value_lengths_at(self) -> int:
        return self.key_lengths_at + 8 * self.blocks

    @property
    def keys_at(self) -> int:
        return self.value_lengths_at + 8 * self.blocks

    @property
    def values_at(self) -> int:
        return self.keys_at + self.blocks * self.key_width

    @property
    def firsts_at(self) -> int:
        return self.values_at + self.blocks * self.value_width


def _map(fd: int, size: int) -> Mapped | None:
    with mmap.mmap(fd, _PAGE, access=mmap.ACCESS_READ) as head:
        magic, library, *fields, index_size = _HEADER.unpack_from(head, 0)
    reverse, count, first, length, blocks, key_width, value_width = fields
    index_at = _PAGE + length + (-length % _PAGE)
    if (
        magic != _MAGIC
        or library.rstrip(b"\0").decode() != version("simplemma")
        or size != index_at + index_size
    ):
        return None
    layout = _Layout(blocks, key_width, value_width)
    index = mmap.mmap(fd, index_size, access=mmap.ACCESS_READ, offset=index_at)
    view = memoryview(index)

    def longs(at: int, n: int) -> memoryview:
        return view[at : at + 8 * n].cast("q")

    offsets = longs(0, blocks + 1)
    if offsets[0] != layout.firsts_at or offsets[-1] != index_size:
        return None
    seeds = MappedSeeds(
        firsts=_Firsts(index, offsets),
        index=index,
        starts=longs(layout.starts_at, blocks),
        keys_at=layout.keys_at,
        key_lengths=longs(layout.key_lengths_at, blocks),
        key_width=key_width,
        values_at=layout.values_at,
        value_lengths=longs(layout.value_lengths_at, blocks),
        value_width=value_width,
    )
    data = mmap.mmap(fd, length, access=mmap.ACCESS_READ, offset=_PAGE)
    for mapping in (data, index):
        mapping.madvise(mmap.MADV_RANDOM)
    return Mapped(data, bool(reverse), count, first, seeds)
