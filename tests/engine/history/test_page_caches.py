"""A history file's writer and readers keep SQLite's page caches small, so a monitor's memory
stops rising minutes after start, not when caches sized for a database server have filled.

SQLite counts its memory for the whole process, so the measurement runs in a fresh
interpreter that opens nothing else.
"""

from __future__ import annotations

import ctypes
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from engine.history import HistoryConfig, HistoryStore
from tests.fresh_interpreter import in_fresh_interpreter

T0 = 1_790_000_100.0
SERIES = 200
POINTS = 2400


def loaded_sqlite() -> ctypes.CDLL:
    """The SQLite library Python's sqlite3 module runs on (the one this process mapped)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "libsqlite3" in line}
    assert len(paths) == 1, f"expected one SQLite library mapped, found {paths}"
    library = ctypes.CDLL(paths.pop())
    library.sqlite3_memory_used.restype = ctypes.c_int64
    return library


def write_and_read() -> dict[str, int]:
    """Writes 200 series of 40 minutes at 1 s through a store, reads every series back on two
    threads at once (so two reading connections stay open), and returns the file's size and
    SQLite's memory after the writes and after the reads, in bytes."""
    sqlite = loaded_sqlite()
    keys = [f"sensors/chip{i // 20}/in{i % 20}" for i in range(SERIES)]
    values = np.random.default_rng(0).normal(50.0, 10.0, (POINTS, SERIES)).round(2).tolist()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.db"
        store = HistoryStore(HistoryConfig(), path=path)
        try:
            for step in range(POINTS):
                for n, key in enumerate(keys):
                    store.append(key, T0 + step, values[step][n])
                if step % 60 == 59:
                    store.flush()
            store.flush()
            after_writes = sqlite.sqlite3_memory_used()

            def read(part: list[str]) -> None:
                for key in part:
                    assert len(store.points(key, T0, T0 + POINTS)) == POINTS

            readers = [threading.Thread(target=read, args=(keys[i::2],)) for i in range(2)]
            for thread in readers:
                thread.start()
            for thread in readers:
                thread.join()
            after_reads = sqlite.sqlite3_memory_used()
            size = os.path.getsize(path)
        finally:
            store.close()
    return {"file": size, "after_writes": after_writes, "after_reads": after_reads}


def test_the_writer_and_readers_hold_well_under_a_mebibyte_of_sqlite_memory() -> None:
    got = in_fresh_interpreter("tests.engine.history.test_page_caches", "write_and_read")
    assert got["file"] > 2 * 2**20, got  # larger than every cache together
    assert got["after_writes"] < 512 * 1024, got
    assert got["after_reads"] < 2**20, got
