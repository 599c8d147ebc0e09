"""Handing a process's freed heap memory back to the system.

The only user of ctypes. Must not allocate: it runs right after large structures are dropped.
"""

import ctypes


def release_memory() -> None:
    """Hand freed heap memory back to the system. glibc keeps what a process frees for later
    (tens of MB after indexing a lemma dictionary, or loading the language model), and a
    daemon that opens six dictionaries at start would otherwise carry that for its whole
    life."""
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to do
        return
    trim(0)
