"""Tests that a poll's points written to the history file at once are kept exactly as the same
points written one by one, on real SQLite files, and that the queue counts points."""

from __future__ import annotations

import math
import sqlite3
import time
from pathlib import Path

import numpy as np

from engine.history import HistoryStore
from engine.history.schema import connect, migrate
from engine.history.writer import Retention, Writer

T0 = 1_790_000_100.0
DAY = 86400.0


def polls(seed: int = 1) -> list[tuple[list[object], list[object], list[object], list[bool]]]:
    """Polls of a few series over two quarters of an hour: most at one time, some with a
    clock that steps back, a series twice in a poll, values that are not finite, numpy
    scalars, and points the writer must refuse (a key that is not text, a time that is not a
    number)."""
    rng = np.random.default_rng(seed)
    out = []
    for step in range(1900):
        keys: list[object] = [f"m{i}" for i in range(6)]
        t: float = T0 + step * 1.0 - (30.0 if step == 1000 else 0.0)
        times: list[object] = [t] * len(keys)
        values: list[object] = rng.normal(50, 10, len(keys)).tolist()
        if step % 97 == 0:
            keys.append("m0")  # a second point of a series in one poll, a little later
            times.append(t + 0.5)
            values.append(np.float64(7.0))
        if step % 131 == 0:
            values[1] = math.inf if step % 2 else math.nan
        if step == 500:
            keys.append(7)
            times.append(t)
            values.append(1.0)
        if step == 600:
            keys.append("m9")
            times.append(math.nan)
            values.append(1.0)
        if step == 700:
            keys.insert(0, "m8")  # the first of its poll, with no time at all
            times.insert(0, None)
            values.insert(0, 1.0)
        flags = (rng.random(len(keys)) < 0.1).tolist()
        out.append((keys, times, values, flags))
    return out


def written(path: Path, many: bool) -> tuple[dict[str, list[object]], int]:
    """Write ``polls`` with ``add_many`` or point by point; return every table's rows and
    what the writer held unsaved of a series before each flush, and the points refused."""
    conn = connect(path)
    migrate(conn)
    events: list[str] = []
    keep = Retention(2 * DAY, 30 * DAY, 730 * DAY)
    writer = Writer(conn, keep, 2 * DAY, 240, True, events.append)
    unsaved: list[object] = []
    for i, (keys, times, values, flags) in enumerate(polls()):
        if many:
            writer.add_many(keys, times, values, flags)  # type: ignore[arg-type]
        else:
            for point in zip(keys, times, values, flags, strict=True):
                writer.add(*point)  # type: ignore[arg-type]
        if i % 7 == 6:
            unsaved.append(writer.unsaved("m0"))
            writer.flush()
    writer.seal_all()
    writer.flush()
    tables: dict[str, list[object]] = {"unsaved": unsaved}
    for table in ("series", "chunks", "open_chunks", "minute", "quarter"):
        tables[table] = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2, 3").fetchall()
    conn.close()
    assert len(events) == 1 and "refused" in events[0]
    return tables, writer.refused


def test_a_poll_added_at_once_is_saved_as_its_points_one_by_one(tmp_path: Path) -> None:
    one, refused_one = written(tmp_path / "one.db", many=False)
    many, refused_many = written(tmp_path / "many.db", many=True)
    assert refused_one == refused_many == 3
    for table in ("series", "chunks", "open_chunks", "minute", "quarter", "unsaved"):
        assert many[table] == one[table], table
    assert len(one["chunks"]) > 6 and len(one["minute"]) > 6 * 31
    assert rollups(many["series"], many["minute"]) == expected(60)
    assert rollups(many["series"], many["quarter"]) == expected(900)


Rollups = dict[tuple[str, int], tuple[float, float, float, int, int]]


def expected(tier: int) -> Rollups:
    """The rollups of every finite point ``polls`` gives, one by one."""
    out: dict[tuple[str, int], list[float]] = {}
    for keys, times, values, flags in polls():
        for key, t, x, flag in zip(keys, times, values, flags, strict=True):
            if not isinstance(key, str) or not isinstance(t, float) or t != t:
                continue  # refused
            if not math.isfinite(float(x)):  # type: ignore[arg-type]
                continue  # kept, but in no bucket
            seconds = round(float(t) * 1000) // 1000  # type: ignore[arg-type]
            agg = out.setdefault((key, seconds - seconds % tier), [math.inf, -math.inf, 0, 0, 0])
            x = float(x)  # type: ignore[arg-type]
            agg[:] = [min(agg[0], x), max(agg[1], x), agg[2] + x, agg[3] + 1, agg[4] + flag]
    return {slot: (a[0], a[1], round(a[2], 6), int(a[3]), int(a[4])) for slot, a in out.items()}


def rollups(series: list[object], rows: list[object]) -> Rollups:
    names = {sid: key for sid, key, *_ in series}  # type: ignore[misc]
    return {
        (names[sid], t): (lo, hi, round(total, 6), count, anomalies)
        for sid, t, lo, hi, total, count, anomalies in rows  # type: ignore[misc]
    }


def test_the_queue_counts_points_and_a_poll_that_does_not_fit_is_dropped_whole(
    tmp_path: Path,
) -> None:
    lines: list[str] = []
    store = HistoryStore(path=tmp_path / "h.db", queue_size=1000, on_event=lines.append)
    keys = [f"m{i}" for i in range(300)]
    taken = [store.extend(keys, [T0 + i] * 300, [float(i)] * 300, [False] * 300) for i in range(50)]
    store.flush()
    stats = store.stats()
    assert set(taken) <= {0, 300} and 0 in taken
    assert stats.appended == taken.count(300) * 300 and stats.dropped == taken.count(0) * 300
    assert stats.queued == 0 and any("dropped" in line for line in lines)
    points = store.points("m5", T0, T0 + 100)
    assert [p.value for p in points] == [float(i) for i, n in enumerate(taken) if n]
    store.close()
    with sqlite3.connect(tmp_path / "h.db") as conn:
        (count,) = conn.execute("SELECT sum(count) FROM minute").fetchone()
    assert count == stats.appended


def test_the_writer_takes_the_queue_when_it_saves_or_when_the_queue_fills(
    tmp_path: Path,
) -> None:
    store = HistoryStore(path=tmp_path / "h.db", queue_size=400, flush_interval=3600.0)
    keys = [f"m{i}" for i in range(50)]
    store.extend(keys, [T0] * 50, [1.0] * 50, [False] * 50)
    time.sleep(1.5)
    assert store.stats().queued == 50  # no flush is due: the points wait, taken in one go later
    for step in range(1, 3):
        store.extend(keys, [T0 + step] * 50, [1.0] * 50, [False] * 50)
    deadline = time.monotonic() + 10
    while store.stats().queued and time.monotonic() < deadline:
        time.sleep(0.01)
    assert store.stats().queued == 0  # a quarter of the queue woke the writer
    assert len(store.points("m7", T0, T0 + 2)) == 3  # a read sees every point queued
    store.extend(keys, [T0 + 3] * 50, [1.0] * 50, [False] * 50)
    assert len(store.points("m7", T0, T0 + 3)) == 4
    store.close()
