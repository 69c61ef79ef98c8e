"""Provides ``limit_arenas``: fewer malloc arenas for a process of many threads (glibc only).

glibc gives each thread that allocates its own arena, up to eight per core, and an arena keeps
the memory freed in it resident for that thread's next allocations. The monitor and the daemon
run a thread per source, the history writer, the observers and the screen's: on the full set of
sources, RSS grew by 5.8 MiB over seven minutes with an arena each, by 2.4 MiB with two arenas
in all (``benchmarks/overhead.py --setup full``). Their threads hold the GIL for most of what
they allocate, so they seldom contend for an arena anyway.
"""

from __future__ import annotations

import ctypes
import os
import sys

ARENAS = 2
"""Arenas the process keeps at most."""
M_ARENA_MAX = -8
"""glibc's ``mallopt`` parameter number for the arena limit (malloc.h)."""
ENV = "MALLOC_ARENA_MAX"
"""The environment variable glibc reads at start: when set, its value stands."""


def limit_arenas(count: int = ARENAS) -> bool:
    """Limit the process to ``count`` malloc arenas; call it before any thread starts.

    Does nothing where the C library is not glibc, or when ``$MALLOC_ARENA_MAX`` already says
    how many.

    Returns:
        True when the limit was set.
    """
    if not sys.platform.startswith("linux") or os.environ.get(ENV):
        return False
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return False
    # Only glibc has gnu_get_libc_version; another libc's mallopt may mean other things.
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return False
    mallopt = libc.mallopt
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_ARENA_MAX, count))
