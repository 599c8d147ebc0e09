"""A block index over a sorted, front-coded key → value stream, built with array operations.

The only user of numpy. simplemma ships each language's dictionary as such a stream (keys
sorted; each record stores only the bytes its key does not share with the previous key; a
value is the previous record's value, a literal, or its own key trimmed plus a tail), and its
low-memory reader finds a record only from a seed: the offset of the block of 32 records
holding it and the key and value just before. simplemma builds those seeds by decoding every
record in Python (1.1 million in German, 3.7 million in Polish: seconds per language). Here
the same seeds come from a few dozen array passes, so opening a dictionary takes a fraction
of that; the seeds are exactly the ones simplemma would build
(`tests/test_engine_speed_paths.py` compares them for every language the rules use).

How, without a sequential pass:

- **Where records start.** Keys and values are UTF-8, which never contains the byte 0xFE, and
  every length and shared-prefix count is one byte below 0x80 (checked). So every 0xFE is the
  flag of a record whose value repeats the previous one, and ends it: the stream falls into
  runs that start at known offsets, parsed side by side, one record of every run per step.
  Whatever the runs seemed to be, the result is accepted only if its records tile the stream
  from the first to the last byte, one after the other, with the header's count: then they
  are the records a sequential decoder reads.
- **Keys.** Byte j of a key was written by the last record before it whose shared prefix is
  at most j. Within a block the 32 records are applied in 32 steps over all blocks at once;
  the bytes below a block's smallest shared prefix come from the block before, found for
  each byte position with a running maximum.

Anything unexpected (another format, a long length, a value trimmed past its key) returns
None, and the caller uses the library's own reader.
"""

from array import array
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

BLOCK = 32  # records per block: simplemma's choice, so its seeds and ours are the same
_SAME_AS_PREV = 254
_LITERAL_VALUE = 255
_LANES = 1 << 16  # runs parsed side by side at once (bounds the temporary arrays)
_CHUNK = 1 << 13  # blocks gathered at once (likewise)
_BYTES = 1 << 22  # bytes searched for flags at once (likewise)

_Ints = npt.NDArray[np.int32]
_Bytes = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Seeds:
    """For each block: its first stored key, its offset, and the key and value before it."""

    firsts: list[bytes]  # sorted: a key belongs to the last block whose first key is <= it
    starts: array  # type: ignore[type-arg]  # array('q'): offset of each block's first record
    keys: bytes  # the key before each block, `key_width` bytes per block
    key_lengths: array  # type: ignore[type-arg]
    key_width: int
    values: bytes  # the value before each block, `value_width` bytes per block
    value_lengths: array  # type: ignore[type-arg]
    value_width: int

    def seed(self, block: int) -> tuple[int, bytes, bytes]:
        """(record offset, previous key, previous value) to resume decoding block `block`."""
        key_at, value_at = block * self.key_width, block * self.value_width
        return (
            self.starts[block],
            self.keys[key_at : key_at + self.key_lengths[block]],
            self.values[value_at : value_at + self.value_lengths[block]],
        )


def index(data: bytes, first: int, count: int) -> Seeds | None:
    """Seeds of every block of the `count` records in `data[first:]`; None if the stream is
    not of the expected shape (then nothing here is trusted)."""
    if count == 0 or len(data) >= 1 << 31:
        return None
    a = np.frombuffer(data, dtype=np.uint8)
    starts = _record_starts(a, first, count)
    return None if starts is None else _seeds(a, starts)


def _record_starts(a: _Bytes, first: int, count: int) -> _Ints | None:
    """The offset of every record, in order, or None unless they tile the stream exactly."""
    n = len(a)
    flags = np.concatenate(
        [
            (np.flatnonzero(a[lo : lo + _BYTES] == _SAME_AS_PREV) + lo).astype(np.int32)
            for lo in range(first, n, _BYTES)
        ]
        or [np.zeros(0, np.int32)]
    )
    starts = np.empty(count, dtype=np.int32)
    done = 0
    runs = len(flags) + (0 if len(flags) and flags[-1] == n - 1 else 1)
    for lo in range(0, runs, _LANES):
        hi = min(lo + _LANES, runs)
        if lo == 0:  # run i starts after flag i - 1; the first one at the first record
            begin = np.concatenate(([first], flags[: hi - 1] + 1))
        else:
            begin = flags[lo - 1 : hi - 1] + 1
        end = flags[lo:hi] + 1
        if len(end) < len(begin):  # the last run ends with the stream, not on a flag
            end = np.concatenate((end, [n])).astype(np.int32)
        part = _parse_runs(a, begin.astype(np.int32), end)
        if part is None or done + len(part) > count:
            return None
        starts[done : done + len(part)] = part
        done += len(part)
    return starts if done == count else None


def _parse_runs(a: _Bytes, begin: _Ints, end: _Ints) -> _Ints | None:
    """Parse runs side by side, one record of each per step; their record offsets in order."""
    last = len(a) - 1
    cur = begin.copy()
    counts = np.zeros(len(begin), dtype=np.int32)
    steps: list[tuple[_Ints, _Ints]] = []
    active = np.arange(len(begin), dtype=np.int32)
    while active.size:
        at = cur[active]
        flag_at = at + 2 + a[np.minimum(at + 1, last)].astype(np.int32)
        tail = a[np.minimum(flag_at + 1, last)].astype(np.int32)
        after = np.where(
            a[np.minimum(flag_at, last)] == _SAME_AS_PREV, flag_at + 1, flag_at + 2 + tail
        )
        steps.append((active, at))
        counts[active] += 1
        cur[active] = after
        active = active[after < end[active]]
    if not np.array_equal(cur, end):  # a run overshot: these are not the records
        return None
    offsets = np.cumsum(counts) - counts
    starts = np.empty(int(counts.sum()), dtype=np.int32)
    for step, (lanes, at) in enumerate(steps):
        starts[offsets[lanes] + step] = at
    return starts


def _seeds(a: _Bytes, starts: _Ints) -> Seeds | None:
    total = len(starts)
    width = _check(a, starts)
    if width is None:
        return None
    blocks = (total + BLOCK - 1) // BLOCK
    facts = _BlockFacts(blocks, width)
    for lo in range(0, blocks, _CHUNK):
        facts.add(a, starts, lo, min(lo + _CHUNK, blocks))
    # (each array is dropped as soon as it is used: a dictionary's arrays add up to tens of MB)
    keys = _carry(facts.last, facts.last_low)  # the last key of each block
    del facts.last
    previous = np.vstack((np.zeros((1, width), np.uint8), keys[:-1]))  # the key before it
    del keys
    columns = np.arange(width)[None, :]
    first_keys = np.where(columns >= facts.first_shared[:, None], facts.first, previous)
    del facts.first
    raw = first_keys.tobytes()
    del first_keys
    firsts = [raw[b * width : b * width + n] for b, n in enumerate(facts.first_length.tolist())]
    del raw
    own_keys = np.where(columns >= facts.own_low[:, None], facts.own, previous)
    del facts.own
    values, value_lengths = _values(a, starts, own_keys, facts)
    del own_keys
    value_width = values.shape[1]
    before = np.vstack((np.zeros((1, value_width), np.uint8), values[:-1])).tobytes()
    del values
    return Seeds(
        firsts=firsts,
        starts=array("q", starts[::BLOCK].tolist()),
        keys=previous.tobytes(),
        key_lengths=array("q", [0, *facts.last_length[:-1].tolist()]),
        key_width=width,
        values=before,
        value_lengths=array("q", [0, *value_lengths[:-1].tolist()]),
        value_width=value_width,
    )


def _check(a: _Bytes, starts: _Ints) -> int | None:
    """The longest key, or None unless every length is one byte, every shared prefix fits in
    the key before it and every trimmed value keeps a part of its key."""
    width, before = 0, 0
    for lo in range(0, len(starts), _CHUNK * BLOCK):
        at = starts[lo : lo + _CHUNK * BLOCK]
        shared = a[at].astype(np.int32)
        suffix = a[at + 1].astype(np.int32)
        flag = a[at + 2 + suffix].astype(np.int32)
        plain = flag != _SAME_AS_PREV
        tail = a[np.minimum(at + 3 + suffix, len(a) - 1)][plain]
        length = shared + suffix
        if (
            max(int(shared.max()), int(suffix.max()), int(tail.max(initial=0))) >= 0x80
            or shared[0] > before
            or np.any(shared[1:] > length[:-1])
            or np.any(plain & (flag < _SAME_AS_PREV) & (flag > length))
        ):
            return None
        width, before = max(width, int(length.max())), int(length[-1])
    return width


class _BlockFacts:
    """What the seeds need from each block, gathered a chunk of blocks at a time: its last
    key and the key of its last record with a value of its own (right of the smallest shared
    prefix up to them, with those minima), its first record, and that value record."""

    def __init__(self, blocks: int, width: int) -> None:
        self.width = width
        self.last = np.zeros((blocks, width), np.uint8)
        self.own = np.zeros((blocks, width), np.uint8)
        self.first = np.zeros((blocks, width), np.uint8)
        self.last_low = np.zeros(blocks, np.int32)
        self.own_low = np.zeros(blocks, np.int32)
        self.last_length = np.zeros(blocks, np.int32)
        self.first_shared = np.zeros(blocks, np.int32)
        self.first_length = np.zeros(blocks, np.int32)
        self.has_own = np.zeros(blocks, np.bool_)
        self.own_record = np.zeros(blocks, np.int32)

    def add(self, a: _Bytes, starts: _Ints, lo: int, hi: int) -> None:
        total = len(starts)
        at = starts[lo * BLOCK : hi * BLOCK]
        pad = (hi - lo) * BLOCK - len(at)
        shared = np.pad(a[at].astype(np.int32), (0, pad), constant_values=self.width + 1)
        length = np.pad(a[at + 1].astype(np.int32), (0, pad)) + shared
        grid = shared.reshape(-1, BLOCK), length.reshape(-1, BLOCK)
        records = np.arange(lo * BLOCK, hi * BLOCK, dtype=np.int32).reshape(-1, BLOCK)
        real = records < total
        flag = a[np.minimum(np.pad(at, (0, pad)) + 2 + length - shared, len(a) - 1)]
        plain = ((flag != _SAME_AS_PREV) & real.reshape(-1)).reshape(-1, BLOCK)
        last_step = np.minimum(BLOCK - 1, total - 1 - records[:, 0])
        self.last[lo:hi], self.last_low[lo:hi] = _local_keys(
            a, at, grid, real, last_step, self.width
        )
        self.last_length[lo:hi] = grid[1][np.arange(hi - lo), last_step]
        has = plain.any(axis=1)
        own_step = BLOCK - 1 - np.argmax(plain[:, ::-1], axis=1)
        self.own[lo:hi], self.own_low[lo:hi] = _local_keys(a, at, grid, real, own_step, self.width)
        self.has_own[lo:hi] = has
        self.own_record[lo:hi] = np.minimum(records[:, 0] + own_step, total - 1)
        first_shared, first_length = grid[0][:, 0], grid[1][:, 0]
        self.first_shared[lo:hi], self.first_length[lo:hi] = first_shared, first_length
        columns = np.arange(self.width)[None, :]
        mine = (columns >= first_shared[:, None]) & (columns < first_length[:, None])
        source = at[::BLOCK, None] + 2 + columns - first_shared[:, None]
        self.first[lo:hi] = np.where(mine, a[np.clip(source, 0, len(a) - 1)], 0)


def _local_keys(
    a: _Bytes,
    at: _Ints,
    grid: tuple[_Ints, _Ints],
    real: npt.NDArray[np.bool_],
    upto: _Ints,
    width: int,
) -> tuple[_Bytes, _Ints]:
    """Per block of `grid` (records at offsets `at`), the key of its record at step `upto`,
    right of the smallest shared
    prefix of the block's records up to it, and that minimum.

    Byte j of that key was written by the last record up to it whose shared prefix is at most
    j: each record wrote the bytes from its shared prefix up to the smallest shared prefix of
    the records after it (up to `upto`), so every byte is written once."""
    shared_grid, length_grid = grid
    blocks = len(upto)
    never = np.int32(1 << 30)
    inside = (np.arange(BLOCK)[None, :] <= upto[:, None]) & real
    shared = np.where(inside, shared_grid, never)
    later = np.minimum.accumulate(shared[:, ::-1], axis=1)[:, ::-1]
    upper = np.minimum(
        np.concatenate((later[:, 1:], np.full((blocks, 1), never)), axis=1), length_grid
    )
    count = np.where(inside, np.maximum(upper - shared, 0), 0).reshape(-1)
    cell = np.flatnonzero(count)
    size = count[cell]
    owner = np.repeat(np.arange(len(cell)), size)
    within = np.arange(len(owner)) - (np.cumsum(size) - size)[owner]
    lead = shared.reshape(-1)[cell]
    out = np.zeros((blocks, width), dtype=np.uint8)
    out.reshape(-1)[((cell // BLOCK) * width + lead)[owner] + within] = a[
        (at[cell] + 2)[owner] + within
    ]
    return out, shared.min(axis=1)


def _carry(local: _Bytes, low: _Ints) -> _Bytes:
    """Complete each block's last key: byte j comes from the latest block (this one or one
    before) whose records rewrote it, i.e. whose smallest shared prefix is at most j (block
    0 starts from nothing, so it rewrote every byte)."""
    blocks, width = local.shape
    keys = np.empty_like(local)
    numbers = np.arange(blocks)
    for j in range(width):
        source = np.maximum.accumulate(np.where(low <= j, numbers, 0))
        keys[:, j] = local[source, j]
    return keys


def _values(a: _Bytes, starts: _Ints, own_keys: _Bytes, facts: _BlockFacts) -> tuple[_Bytes, _Ints]:
    """The value of each block's last record: that of its last record with a value of its own
    (a literal, or that record's key trimmed, then a tail), else the block before's."""
    last = len(a) - 1
    at = starts[facts.own_record]
    suffix = a[at + 1].astype(np.int32)
    key_length = a[at].astype(np.int32) + suffix
    trim = a[np.minimum(at + 2 + suffix, last)].astype(np.int32)
    kept = np.where(trim == _LITERAL_VALUE, 0, key_length - trim)
    size_at = np.minimum(at + 3 + suffix, last)
    total = np.where(facts.has_own, kept + a[size_at], 0)
    width = max(int(total.max()), 1)
    values = np.zeros((len(at), width), dtype=np.uint8)
    columns = np.arange(width, dtype=np.int32)[None, :]
    for lo in range(0, len(at), _CHUNK):  # a chunk at a time: the index arrays are wide
        part = slice(lo, lo + _CHUNK)
        from_tail = a[np.clip(size_at[part, None] + 1 + columns - kept[part, None], 0, last)]
        from_key = own_keys[part, :width]
        if from_key.shape[1] < width:
            from_key = np.pad(from_key, ((0, 0), (0, width - from_key.shape[1])))
        chosen = np.where(columns < kept[part, None], from_key, from_tail)
        values[part] = np.where(columns < total[part, None], chosen, 0)
    source = np.maximum.accumulate(np.where(facts.has_own, np.arange(len(at)), -1))
    empty = source < 0
    source = np.maximum(source, 0)
    values = values[source]
    values[empty] = 0
    return values, np.where(empty, 0, total[source])
