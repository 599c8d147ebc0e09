"""Lemma dictionaries kept as files that every process reads a block at a time, instead of a
copy of its own in each.

A dictionary opened in memory costs a process its whole decompressed stream and block index
(20–40 MB for Polish), and every reader holds one of each language it has met. Written once
to a file (per simplemma version), it is read with `pread`, one block of 32 records per
lookup: the pages read are in the kernel's page cache, one copy for every process and
reclaimable, and none of them in a process's own memory. (A read-only mapping shared the
pages too, but each process then counted most of the file as its own resident memory: the
kernel maps the cached pages around every fault, 64 KB at a time, so the 2,000 lookups of
the rules' Polish terms made 30 of its 32 MB resident in every reader.) Opening a file again
takes no decompression and no indexing: only the group index below is read into memory.

The layout: a header (the format, the simplemma version, the sizes); the blocks, each its
seed (the key and value before its first record, which front coding needs) and its records
as simplemma stores them; the groups, each the first keys and offsets of 64 blocks; and the
group index, each group's first key and offset, which a process keeps (~80 KB for Polish).
A lookup finds its group in memory, then reads the group (~1.5 KB) and the block (~250 B).

The only module that writes or reads these files. A file that is not exactly what it should
be (another version or format, cut short) is written again; every block and group carries
its CRC-32, so one damaged later (a disk error) is told at the lookup, never read as words.
"""

import contextlib
import os
import struct
import tempfile
import time
import zlib
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from importlib.metadata import version
from itertools import accumulate
from pathlib import Path
from typing import IO, Protocol

_FORMAT = 3  # in the file's name too: another format is another file, not one to fight over
_MAGIC = f"monitor-lemmas-{_FORMAT}".encode()
# the magic, simplemma's version, then reverse, count, blocks, groups, where the group index
# starts and the file's size
_HEADER = struct.Struct("<16s32s6q")
_SEED = struct.Struct("<HH")  # a block's seed: its key's and its value's lengths
_CHECK = struct.Struct("<I")  # the CRC-32 that opens every block and group: damage is told
_GROUP = 64  # blocks per group
_STALE = 3600.0  # seconds after which a temporary file is a killed writer's

# (bytes, offset of the first record, the key before it, the value before it): what
# simplemma's record reader resumes from
Block = tuple[bytes, int, bytes, bytes]


class Seeds(Protocol):
    """A dictionary's block index as `frontcode` builds it."""

    @property
    def firsts(self) -> Sequence[bytes]: ...

    @property
    def starts(self) -> Sequence[int]: ...

    def seed(self, block: int) -> tuple[int, bytes, bytes]: ...


class DictionaryFile:
    """One language's dictionary file, open: its blocks, read on demand."""

    __slots__ = ("_fd", "_index", "_tops", "count", "path", "reverse")

    def __init__(
        self,
        path: Path,
        fd: int,
        reverse: bool,
        count: int,
        tops: list[bytes],
        index: array,  # type: ignore[type-arg]
    ) -> None:
        self.path, self._fd, self.reverse, self.count = path, fd, reverse, count
        self._tops, self._index = tops, index  # each group's first key; where groups start

    def block(self, key: bytes) -> Block | None:
        """The block that holds `key` if the dictionary has it (None: it cannot have it)."""
        group = bisect_right(self._tops, key) - 1
        if group < 0:
            return None
        firsts, bounds = self._group(group)
        block = bisect_right(firsts, key) - 1  # never -1: a group starts with its first key
        return _unpack_block(self._read(bounds[block], bounds[block + 1]))

    def blocks(self) -> Iterator[Block]:
        """Every block, in order."""
        for group in range(len(self._tops)):
            _, bounds = self._group(group)
            for block in range(len(bounds) - 1):
                yield _unpack_block(self._read(bounds[block], bounds[block + 1]))

    def _group(self, group: int) -> tuple[list[bytes], array]:  # type: ignore[type-arg]
        """The group's blocks' first keys, and the offsets around its blocks."""
        return _unpack_group(self._read(self._index[group], self._index[group + 1]))

    def _read(self, start: int, end: int) -> bytes:
        data = os.pread(self._fd, end - start, start)
        if len(data) != end - start:
            raise ValueError("lemma dictionary file cut short")
        return _unsealed(data)

    def __del__(self) -> None:
        with contextlib.suppress(OSError, AttributeError):  # closed already, or never opened
            os.close(self._fd)


def path_of(folder: Path, language: str) -> Path:
    return folder / f"{language}-{version('simplemma')}-{_FORMAT}.lemmas"


def open_file(folder: Path, language: str) -> DictionaryFile | None:
    """The language's dictionary file, open, or None when there is none or it is not exactly
    what `write` makes for this simplemma version."""
    path = path_of(folder, language)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        opened = _open(path, fd)
    except (OSError, ValueError, struct.error, IndexError):
        opened = None
    if opened is None:
        os.close(fd)
    return opened


def write(
    folder: Path, language: str, data: bytes, reverse: bool, count: int, seeds: Seeds
) -> None:
    """Write the dictionary's file, atomically: a process opening it meanwhile sees the old
    file or none, and two writers at once both write whole files.

    Raises:
        OSError: the folder cannot be made or written to.
    """
    folder.mkdir(parents=True, exist_ok=True)
    _remove_stale(folder, language)
    with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{language}-", delete=False) as file:
        try:
            os.fchmod(file.fileno(), 0o644)  # what the library ships: anyone may read it
            _write_parts(file, data, reverse, count, seeds)
            file.flush()
            os.fsync(file.fileno())  # a file renamed in place is whole, even after a crash
        except BaseException:
            os.unlink(file.name)
            raise
    os.replace(file.name, path_of(folder, language))


def _write_parts(file: IO[bytes], data: bytes, reverse: bool, count: int, seeds: Seeds) -> None:
    """The header, then each block as it is made (a copy of the whole stream at once would
    double what building a dictionary costs), the groups and their index."""
    file.write(b"\0" * _HEADER.size)  # the header, once the sizes are known
    bounds, starts = array("q", [_HEADER.size]), [*seeds.starts, len(data)]
    for b in range(len(seeds.firsts)):
        start, key, value = seeds.seed(b)
        block = _SEED.pack(len(key), len(value)) + key + value + data[start : starts[b + 1]]
        bounds.append(bounds[-1] + file.write(_sealed(block)))
    index, tops = array("q", [bounds[-1]]), []
    for g in range(0, len(seeds.firsts), _GROUP):
        firsts = seeds.firsts[g : g + _GROUP]
        group = _pack_group(firsts, bounds[g : g + len(firsts) + 1])
        index.append(index[-1] + file.write(_sealed(group)))
        tops.append(firsts[0])
    end = index[-1] + file.write(_sealed(_pack_group(tops, index)))
    sizes = (count, len(seeds.firsts), len(tops), index[-1], end)
    file.seek(0)
    file.write(_HEADER.pack(_MAGIC, version("simplemma").encode(), reverse, *sizes))


def _sealed(part: bytes) -> bytes:
    return _CHECK.pack(zlib.crc32(part)) + part


def _unsealed(data: bytes) -> bytes:
    part = data[_CHECK.size :]
    if len(data) < _CHECK.size or _CHECK.unpack_from(data)[0] != zlib.crc32(part):
        raise ValueError("lemma dictionary file damaged")
    return part


def _pack_group(firsts: Sequence[bytes], bounds: array) -> bytes:  # type: ignore[type-arg]
    """n first keys and the n + 1 offsets around what they start: n, the offsets, the keys'
    lengths, the keys."""
    return b"".join(
        (
            struct.pack("<I", len(firsts)),
            bounds.tobytes(),
            array("H", map(len, firsts)).tobytes(),
            *firsts,
        )
    )


def _unpack_group(data: bytes) -> tuple[list[bytes], array]:  # type: ignore[type-arg]
    (n,) = struct.unpack_from("<I", data)
    bounds, lengths = array("q"), array("H")
    bounds.frombytes(data[4 : 4 + 8 * (n + 1)])
    lengths.frombytes(data[4 + 8 * (n + 1) : 4 + 10 * n + 8])
    ends = list(accumulate(lengths, initial=4 + 10 * n + 8))
    if ends[-1] != len(data):
        raise ValueError("lemma dictionary group damaged")
    return [data[ends[i] : ends[i + 1]] for i in range(n)], bounds


def _unpack_block(data: bytes) -> Block:
    key_length, value_length = _SEED.unpack_from(data)
    key_end = _SEED.size + key_length
    value_end = key_end + value_length
    return data, value_end, data[_SEED.size : key_end], data[key_end:value_end]


def _open(path: Path, fd: int) -> DictionaryFile | None:
    size = os.fstat(fd).st_size
    head = os.pread(fd, _HEADER.size, 0)
    magic, library, reverse, count, blocks, groups, index_at, end = _HEADER.unpack(head)
    if (
        magic != _MAGIC
        or library.rstrip(b"\0").decode() != version("simplemma")
        or end != size
        or not _HEADER.size <= index_at < size
    ):
        return None
    tops, index = _unpack_group(_unsealed(os.pread(fd, size - index_at, index_at)))
    if len(tops) != groups or index[0] < _HEADER.size or index[-1] != index_at:
        return None
    if -(-blocks // _GROUP) != groups:
        return None
    if hasattr(os, "posix_fadvise"):  # not on macOS
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)  # a lookup reads a block: no readahead
    return DictionaryFile(path, fd, bool(reverse), count, tops, index)


def _remove_stale(folder: Path, language: str) -> None:
    """Temporary files a killed writer left (one still being written is younger)."""
    for stale in folder.glob(f".{language}-*"):
        try:
            if time.time() - stale.stat().st_mtime > _STALE:
                stale.unlink()
        except OSError:  # gone already, or not ours to remove: harmless either way
            continue
