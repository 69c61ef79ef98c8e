"""Provides the history writer: chunks points per series, rolls them up, and saves them in batches.

One writer owns the file's writes; it runs in its own thread (see ``HistoryStore``), so
collectors never wait on the disk. Every flush is one transaction that saves the sealed
chunks, the open chunks as they stand, and the rollup increments of the same points, so the
tiers never disagree after a crash.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from engine.history.codec import decode, decode_flags
from engine.history.maintenance import compact, expire
from engine.history.open_chunk import OpenChunk
from engine.history.sealing import seal

ChunkRow = tuple[int, int, int, bytes, bytes]
"""A chunk as stored: start and end (ms), point count, data blob, flags blob."""

MINUTE_S = 60
QUARTER_S = 900

_UPSERT = (
    "INSERT INTO {table} (series, t, min, max, sum, count, anomalies) "
    "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (series, t) DO UPDATE SET "
    "min = min(min, excluded.min), max = max(max, excluded.max), sum = sum + excluded.sum, "
    "count = count + excluded.count, anomalies = anomalies + excluded.anomalies"
)


_NO_TIME = object()
"""Unequal to any time a point may come with (None included): no time converted yet."""


@dataclass(frozen=True, slots=True)
class Unsaved:
    """A writer's points of one series that the file may not have yet."""

    known: bool = False
    """Whether the writer has the series; then the file's open chunk of it is out of date."""
    chunks: tuple[ChunkRow, ...] = ()
    """Sealed chunks not saved yet, and the open chunk as it stands."""
    buckets: dict[tuple[int, int], tuple[float, ...]] = field(default_factory=dict)
    """Rollup increments not saved yet: (bucket start, tier seconds) -> (min, max, sum,
    count, anomalies)."""


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each tier is kept, in seconds of data time."""

    raw: float
    minute: float
    quarter: float


class _Series:
    """What the writer holds of one series between flushes."""

    __slots__ = ("buckets", "dirty", "id", "minute", "open", "quarter", "sealed")

    def __init__(self, series_id: int) -> None:
        self.id = series_id
        self.open: OpenChunk | None = None
        self.sealed: list[ChunkRow] = []
        self.dirty = False
        # Rollup increments since the last flush: (bucket seconds, tier) -> [min, max, sum,
        # count, anomalies]. Saved as increments (merged in SQL) so a restart can add to a
        # bucket it began before.
        self.buckets: dict[tuple[int, int], list[float]] = {}
        self.minute: tuple[int, list[float]] | None = None
        """The start and increments (in ``buckets``) of the minute the last point went to."""
        self.quarter: tuple[int, list[float]] | None = None
        """The same of the quarter of an hour."""


class Writer:
    """Turns appended points into chunk and rollup rows; every method runs in one thread.

    ``lock`` guards the in-memory state, so another thread may take a consistent snapshot of
    a series' unsaved points with :meth:`unsaved`.
    """

    def __init__(
        self,
        conn: sqlite3.Connection,
        retention: Retention,
        chunk_span: float,
        chunk_points: int,
        compress: bool,
        on_event: Callable[[str], None],
    ) -> None:
        self.conn = conn
        self.retention = retention
        self.chunk_span_ms = int(chunk_span * 1000)
        self.chunk_points = chunk_points
        self.compress = compress
        self.on_event = on_event
        self.lock = threading.Lock()
        self.series: dict[str, _Series] = {}
        self.newest_ms = 0
        """Time of the newest point seen: the clock retention counts back from."""
        self.flush_failed = False
        self.refused = 0
        """Points refused for a bad key or time."""
        self._compacted_hour = -1

    def recover(self) -> int:
        """Seal the chunks a process that died left open, from the segments it saved.

        Returns:
            How many open chunks were recovered.
        """
        self.conn.execute("BEGIN IMMEDIATE")
        rows = self.conn.execute(
            "SELECT series, count, data, flags FROM open_chunks ORDER BY series, id"
        ).fetchall()
        chunks: dict[int, OpenChunk] = {}
        for sid, count, data, flags in rows:
            chunk = chunks.setdefault(sid, OpenChunk())
            times, values = decode(data, count)
            for time_ms, value, mark in zip(times, values, decode_flags(flags, count), strict=True):
                chunk.append(time_ms, value, mark)
        self.conn.executemany(
            "INSERT INTO chunks (series, start, end, count, data, flags) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (sid, c.first_time, c.last_time, c.count, seal(c, self.compress), c.flags())
                for sid, c in chunks.items()
            ],
        )
        self.conn.execute("DELETE FROM open_chunks")
        self.conn.execute("COMMIT")
        row = self.conn.execute("SELECT max(end) FROM chunks").fetchone()
        self.newest_ms = int(row[0] or 0)
        return len(chunks)

    def _series(self, key: str) -> _Series:
        state = self.series.get(key)
        if state is None:
            self.conn.execute("INSERT OR IGNORE INTO series (key) VALUES (?)", (key,))
            row = self.conn.execute("SELECT id FROM series WHERE key = ?", (key,)).fetchone()
            state = self.series[key] = _Series(int(row[0]))
        return state

    def set_unit(self, key: str, unit: str) -> None:
        """Record the unit of a series."""
        self._series(key)
        self.conn.execute("UPDATE series SET unit = ? WHERE key = ?", (unit, key))

    def add(self, key: str, t: float, value: float, anomalous: bool) -> None:
        """Add one point to its series' open chunk and to its rollup buckets.

        A point whose key is not a string or whose time is not a finite number is refused
        (one event says so the first time), so bad input never stops the writer.
        """
        try:
            # numpy scalars would reach SQLite as blobs through their buffer interface.
            time_ms, value, anomalous = round(float(t) * 1000), float(value), bool(anomalous)
            if not isinstance(key, str):
                raise TypeError(f"key {key!r} is not a string")
        except (TypeError, ValueError, OverflowError) as error:
            self._refuse(key, t, error)
            return
        self._add(self.series.get(key) or self._series(key), time_ms, value, anomalous)

    def add_many(
        self,
        keys: Sequence[str],
        times: Sequence[float],
        values: Sequence[float],
        flags: Sequence[bool],
    ) -> None:
        """Add points (a poll's, one of each series, usually at one time) as ``add`` adds
        each, in order."""
        last_t: object = _NO_TIME
        time_ms = 0
        for key, t, value, anomalous in zip(keys, times, values, flags, strict=True):
            try:
                if t != last_t:  # a poll's points share their time: converted once
                    time_ms, last_t = round(float(t) * 1000), t
                # numpy scalars would reach SQLite as blobs through their buffer interface.
                value, anomalous = float(value), bool(anomalous)
                if not isinstance(key, str):
                    raise TypeError(f"key {key!r} is not a string")
            except (TypeError, ValueError, OverflowError) as error:
                last_t = _NO_TIME
                self._refuse(key, t, error)
                continue
            self._add(self.series.get(key) or self._series(key), time_ms, value, anomalous)

    def _refuse(self, key: object, t: object, error: Exception) -> None:
        self.refused += 1
        if self.refused == 1:
            self.on_event(f"history: refused a point of {key!r} at {t!r}: {error}")

    def _add(self, state: _Series, time_ms: int, value: float, anomalous: bool) -> None:
        chunk = state.open
        if chunk is None:
            chunk = state.open = OpenChunk(self.chunk_points)
        elif (n := chunk.count) and (
            n >= self.chunk_points
            or time_ms < chunk.times[n - 1]
            or time_ms - chunk.times[0] >= self.chunk_span_ms
        ):
            # A clock that stepped back starts a new chunk; queries sort chunks by time.
            self._seal(state)
        chunk.append(time_ms, value, anomalous)
        state.dirty = True
        if time_ms > self.newest_ms:
            self.newest_ms = time_ms
        if math.isfinite(value):
            seconds = time_ms // 1000
            # Most points go to the buckets their series' last point went to.
            held = state.minute
            if held is None or not held[0] <= seconds < held[0] + MINUTE_S:
                held = state.minute = _bucket(state, seconds - seconds % MINUTE_S, MINUTE_S)
            _roll(held[1], value, anomalous)
            held = state.quarter
            if held is None or not held[0] <= seconds < held[0] + QUARTER_S:
                held = state.quarter = _bucket(state, seconds - seconds % QUARTER_S, QUARTER_S)
            _roll(held[1], value, anomalous)

    def _seal(self, state: _Series) -> None:
        chunk = state.open
        if chunk is None or not chunk.count:
            return
        blob = seal(chunk, self.compress)
        state.sealed.append((chunk.first_time, chunk.last_time, chunk.count, blob, chunk.flags()))
        chunk.clear()
        state.dirty = True

    def seal_all(self) -> None:
        """Seal every open chunk (on close)."""
        for state in self.series.values():
            self._seal(state)

    def flush(self) -> bool:
        """Save everything added since the last flush in one transaction.

        Returns:
            True when saved; False when SQLite refused (the points stay in memory and the
            next flush tries again).
        """
        dirty = [state for state in self.series.values() if state.dirty]
        if not dirty:
            return True
        try:
            self._write(dirty)
        except sqlite3.Error as error:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            if not self.flush_failed:
                self.on_event(f"history: cannot save to {self._path()}: {error}")
            self.flush_failed = True
            return False
        if self.flush_failed:
            self.on_event("history: saving again")
        self.flush_failed = False
        for state in dirty:
            state.sealed.clear()
            state.buckets.clear()
            state.minute = state.quarter = None
            state.dirty = False
            if state.open is not None:
                state.open.saved = state.open.count
        return True

    def _write(self, dirty: list[_Series]) -> None:
        sealed: list[tuple[int, int, int, int, bytes, bytes]] = []
        replaced: list[tuple[int, int]] = []
        opened: list[tuple[int, int, int, int, bytes, bytes]] = []
        rollups: dict[int, list[tuple[int, int, float, float, float, float, float]]] = {
            MINUTE_S: [],
            QUARTER_S: [],
        }
        # One pass over the series: a flush of every series each few seconds is the writer's
        # main work.
        for s in dirty:
            if s.sealed:
                sealed += [(s.id, *row) for row in s.sealed]
                # Segments of chunks sealed since are replaced by the chunks.
                replaced.append((s.id, s.sealed[-1][1]))
            chunk = s.open
            if chunk is not None and chunk.count > chunk.saved:
                # Open chunks add the points that came since the last flush.
                opened.append((s.id, *chunk.segment(chunk.saved)))
            for (bucket, tier), agg in s.buckets.items():
                rollups[tier].append((s.id, bucket, agg[0], agg[1], agg[2], agg[3], agg[4]))
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO chunks (series, start, end, count, data, flags) VALUES (?, ?, ?, ?, ?, ?)",
            sealed,
        )
        conn.executemany("DELETE FROM open_chunks WHERE series = ? AND start <= ?", replaced)
        conn.executemany(
            "INSERT INTO open_chunks (series, start, end, count, data, flags) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            opened,
        )
        conn.executemany(_UPSERT.format(table="minute"), rollups[MINUTE_S])
        conn.executemany(_UPSERT.format(table="quarter"), rollups[QUARTER_S])
        conn.execute("COMMIT")

    def _path(self) -> str:
        row = self.conn.execute("PRAGMA database_list").fetchone()
        return str(row[2]) if row else "the history file"

    def expire(self, compact_now: bool = False) -> None:
        """Pack settled rollups into blocks, then delete what each tier no longer keeps.

        Retention counts back from the newest point, not the wall clock, so a store fed
        old data (an import, a replay) keeps it.

        Args:
            compact_now: look for full blocks even if the newest point is in the same hour
                as at the last look (on close).
        """
        newest = self.newest_ms
        raw_ms = newest - int(self.retention.raw * 1000)
        minute_s = (newest - int(self.retention.minute * 1000)) // 1000
        quarter_s = (newest - int(self.retention.quarter * 1000)) // 1000
        ids = [int(row[0]) for row in self.conn.execute("SELECT id FROM series")]
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            # Blocks fill over hours of data; looking for full ones once an hour is enough.
            if compact_now or newest // 3_600_000 != self._compacted_hour:
                compact(self.conn, ids, newest // 1000)
                self._compacted_hour = newest // 3_600_000
            expire(self.conn, ids, raw_ms, minute_s, quarter_s)
            self.conn.execute("COMMIT")
        except sqlite3.Error as error:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self.on_event(f"history: cannot expire old points: {error}")

    def checkpoint(self) -> None:
        """Copy the WAL into the file and truncate it, so it cannot grow without bound."""
        try:
            busy = self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        except sqlite3.Error as error:
            self.on_event(f"history: checkpoint failed: {error}")
            return
        # Busy means a reader held an old snapshot; the next checkpoint catches up.
        del busy

    def unsaved(self, key: str) -> Unsaved:
        """What this writer holds of a series that the file may lack (call under ``lock``)."""
        state = self.series.get(key)
        if state is None:
            return Unsaved()
        rows = list(state.sealed)
        chunk = state.open
        if chunk is not None and chunk.count:
            rows.append(_open_row(chunk))
        buckets = {slot: tuple(agg) for slot, agg in state.buckets.items()}
        return Unsaved(True, tuple(rows), buckets)


def _bucket(state: _Series, start: int, tier: int) -> tuple[int, list[float]]:
    """Return the start and the increments of a series' bucket of ``tier`` seconds that
    begins at ``start`` (a new one holds no point yet: a count of 0)."""
    agg = state.buckets.get((start, tier))
    if agg is None:
        agg = state.buckets[(start, tier)] = [math.nan, math.nan, 0.0, 0, 0]
    return start, agg


def _roll(agg: list[float], value: float, anomalous: bool) -> None:
    """Add one finite point to a bucket's increments."""
    if not agg[3]:
        agg[:] = [value, value, value, 1, int(anomalous)]
        return
    if value < agg[0]:
        agg[0] = value
    if value > agg[1]:
        agg[1] = value
    agg[2] += value
    agg[3] += 1
    agg[4] += anomalous


def _open_row(chunk: OpenChunk) -> ChunkRow:
    return chunk.segment(0)
