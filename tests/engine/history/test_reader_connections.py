"""Tests that the history file's readers hold connections by the reads they run, not by the
threads that ever read: a thread per source or a worker per chart must not add one each."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from engine.history import HistoryStore
from engine.history.reader import IDLE_CONNECTIONS

T0 = 1_790_000_100.0


def open_handles(path: Path) -> int:
    """Descriptors of this process open on the file (each SQLite connection holds one)."""
    fd_dir = Path("/proc/self/fd")
    count = 0
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(fd_dir / fd) == str(path):
                count += 1
        except OSError:  # closed between the listing and the look
            continue
    return count


def test_reads_from_many_threads_leave_a_bounded_number_of_connections(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with HistoryStore(path=path) as store:
        for i in range(100):
            store.append("k", T0 + i, float(i))
        store.flush()
        before = open_handles(path)
        got: list[int] = []
        for _ in range(20):  # as twenty collector threads warming their detectors would
            reader = threading.Thread(target=lambda: got.append(len(store.recent("k", 10))))
            reader.start()
            reader.join()
        assert got == [10] * 20
        assert open_handles(path) - before <= IDLE_CONNECTIONS
    assert open_handles(path) == 0


def test_reads_at_the_same_time_each_get_a_connection(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with HistoryStore(path=path) as store:
        for i in range(2000):
            store.append(f"k{i % 8}", T0 + i, float(i))
        store.flush()
        start = threading.Barrier(8)
        counts: list[int] = []

        def read(key: str) -> None:
            start.wait()
            for _ in range(20):
                counts.append(len(store.points(key, T0, T0 + 2000)))

        threads = [threading.Thread(target=read, args=(f"k{i}",)) for i in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert counts == [250] * 160
