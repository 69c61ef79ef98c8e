"""The in-memory rings and the history's open chunks take their memory when a series first
comes, not as they fill.

Each measurement runs in a fresh interpreter: in one that has freed memory before, new
arrays may land on pages that are already resident, and the first point would seem free.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from engine.history.schema import connect, migrate
from engine.history.writer import Retention, Writer
from engine.series import SeriesStore
from tests.fresh_interpreter import in_fresh_interpreter

PAGE = os.sysconf("SC_PAGE_SIZE")
T0 = 1_790_000_000.0
DAY = 86400.0


def resident() -> int:
    """Bytes of this process in memory now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


def rings() -> tuple[int, int, int]:
    """60 metrics of 6,000 points: 6 MB of rings, each array under the 4 MB from which numpy
    asks for huge pages. Returns the bytes the first point took, those filling the rings took
    after it, and the rings' size."""
    store = SeriesStore(capacity=6_000)
    keys = [f"sensors/chip{i // 20}/in{i % 20}" for i in range(60)]
    before = resident()
    store.extend(keys, [0.0] * len(keys), [1.0] * len(keys), [False] * len(keys))
    taken = resident() - before
    for step in range(1, store.capacity):
        store.extend(keys, [float(step)] * len(keys), [2.0] * len(keys), [False] * len(keys))
    last = store.tail(keys[-1])
    assert len(last) == store.capacity and last.t[-1] == store.capacity - 1
    return taken, resident() - before - taken, len(keys) * store.capacity * (8 + 8 + 1)


def chunks() -> tuple[int, int, int]:
    """400 series in chunks of 1,200 points: 8 MB of open chunks, which a 5 s series would take
    100 minutes to fill; then sealed, and filled again. Returns what ``rings`` returns."""
    with tempfile.TemporaryDirectory() as tmp:
        conn = connect(Path(tmp) / "history.db")
        migrate(conn)
        conn.execute("PRAGMA cache_size = -256")
        points = 1200
        writer = Writer(conn, Retention(DAY, DAY, DAY), DAY, points, True, lambda _line: None)
        keys = [f"sensors/chip{i // 20}/in{i % 20}" for i in range(400)]

        def poll(step: int) -> None:
            t = T0 + 5.0 * step
            values = [20.0 + step % 7] * len(keys)
            writer.add_many(keys, [t] * len(keys), values, [False] * len(keys))
            if step % 20 == 19:
                writer.flush()

        before = resident()
        poll(0)
        taken = resident() - before
        for step in range(1, 2 * points):
            poll(step)
        grown = resident() - before - taken
        writer.seal_all()
        writer.flush()
        rows = conn.execute("SELECT count(*), min(count), max(count) FROM chunks").fetchone()
        assert rows == (2 * len(keys), points, points), rows
        assert conn.execute("SELECT count(*) FROM open_chunks").fetchone() == (0,)
        conn.close()
    return taken, grown, len(keys) * points * (8 + 8 + 1)


def test_filling_the_rings_takes_no_more_memory() -> None:
    taken, grown, size = in_fresh_interpreter("tests.engine.test_series_memory", "rings")
    assert taken > size * 0.9, f"the first point took {taken} bytes of {size}"
    assert grown < size / 10, f"filling the rings took {grown} more bytes"


def test_open_chunks_take_their_memory_at_their_first_point() -> None:
    taken, grown, size = in_fresh_interpreter("tests.engine.test_series_memory", "chunks")
    assert taken > size * 0.8, f"the first point took {taken} bytes of {size}"
    assert grown < size / 3, f"filling the chunks took {grown} more bytes"
