"""Provides the reading side of the history file: points of a series from the right tier."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from engine.history.blocks import decode_block
from engine.history.codec import decode, decode_flags
from engine.history.writer import MINUTE_S, QUARTER_S, ChunkRow


class Tier(Enum):
    """A resolution of the history, with the seconds one of its points covers."""

    RAW = 0
    MINUTE = MINUTE_S
    QUARTER = QUARTER_S


class Point(NamedTuple):
    """One stored point: a raw sample, or a rollup of the samples of one bucket.

    A named tuple rather than a frozen dataclass: a month of 1-minute rollups is 43 200 of
    them, and a tuple is several times quicker to make.
    """

    time: float
    """Seconds since the epoch: the sample's time, or the start of the rollup's bucket."""
    value: float
    """The sample, or the mean of the bucket."""
    min: float
    """Smallest sample of the bucket (the sample itself for raw points)."""
    max: float
    """Largest sample of the bucket (the sample itself for raw points)."""
    # The field the JSON output and the daemon name "count" hides tuple.count, on purpose.
    count: int = 1  # type: ignore[assignment]
    """Samples in the bucket (1 for raw points)."""
    anomalies: int = 0
    """Samples of the bucket the detectors called anomalous (0 or 1 for raw points)."""

    @property
    def anomalous(self) -> bool:
        """Whether any sample of the point was anomalous."""
        return self.anomalies > 0


@dataclass(frozen=True, slots=True)
class Samples:
    """Raw points of one series as arrays, oldest first: what ``recent`` reads, without a
    ``Point`` per sample (warming a detector wants arrays, and thousands of them)."""

    t: npt.NDArray[np.float64]
    """Seconds since the epoch."""
    x: npt.NDArray[np.float64]
    """The samples."""
    anomalous: npt.NDArray[np.bool_]
    """Whether the detectors called each sample anomalous."""

    def __len__(self) -> int:
        return len(self.t)

    def __getitem__(self, part: slice) -> Samples:
        return Samples(self.t[part], self.x[part], self.anomalous[part])


NO_SAMPLES = Samples(np.empty(0), np.empty(0), np.empty(0, dtype=bool))
"""What a series the file does not hold has."""


def chunk_samples(rows: Sequence[ChunkRow], older: Sequence[ChunkRow] = (), n: int = 0) -> Samples:
    """The last ``n`` points (all for 0) of chunk rows and then ``older`` ones, sorted by time
    (ties keep the rows' order): what ``chunk_points`` gives with no bounds.

    ``older`` are chunks by their end, newest first, decoded only while they may hold some of
    the last ``n``: a chunk's points end at its end, so once ``n`` points come after it,
    neither it nor any chunk after it can be among them.
    """
    times: list[int] = []
    values: list[float] = []
    flags: list[bool] = []
    for at, (_start, end, count, data, marks) in enumerate([*rows, *older]):
        if n and at >= len(rows) and np.count_nonzero(np.array(times) > end) >= n:
            break
        t, x = decode(data, count)
        times += t
        values += x
        flags += decode_flags(marks, count)
    if not times:
        return NO_SAMPLES
    t_s = np.array(times, dtype=np.int64) / 1000
    order = np.argsort(t_s, kind="stable")[-n:]
    return Samples(t_s[order], np.array(values)[order], np.array(flags, dtype=bool)[order])


def chunk_points(rows: Iterable[ChunkRow], since_ms: int, until_ms: int) -> list[Point]:
    """Decode chunk rows and keep the points within ``[since_ms, until_ms]``, sorted by time."""
    points: list[Point] = []
    for _start, _end, count, data, flags in rows:
        times, values = decode(data, count)
        marks = decode_flags(flags, count)
        for time_ms, value, flag in zip(times, values, marks, strict=True):
            if since_ms <= time_ms <= until_ms:
                points.append(Point(time_ms / 1000, value, value, value, 1, int(flag)))
    points.sort(key=lambda p: p.time)
    return points


def series_id(conn: sqlite3.Connection, key: str) -> int | None:
    """The id of a series in the file, or None when the file has no such key."""
    row = conn.execute("SELECT id FROM series WHERE key = ?", (key,)).fetchone()
    return None if row is None else int(row[0])


BATCH = 500
"""Keys or ids bound in one ``IN (...)`` (SQLite allows at least 999 variables)."""


def series_ids(conn: sqlite3.Connection, keys: Sequence[str]) -> dict[str, int]:
    """The ids of the keys the file holds (one query per ``BATCH`` keys)."""
    ids: dict[str, int] = {}
    for at in range(0, len(keys), BATCH):
        part = keys[at : at + BATCH]
        query = f"SELECT key, id FROM series WHERE key IN ({','.join('?' * len(part))})"
        ids.update((key, int(sid)) for key, sid in conn.execute(query, part))
    return ids


def open_chunks(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, list[ChunkRow]]:
    """The open chunks the file holds of each series (segments by start, then as saved)."""
    out: dict[int, list[ChunkRow]] = {}
    for at in range(0, len(ids), BATCH):
        part = ids[at : at + BATCH]
        query = (
            "SELECT series, start, end, count, data, flags FROM open_chunks "
            f"WHERE series IN ({','.join('?' * len(part))}) ORDER BY series, start, id"
        )
        for sid, *row in conn.execute(query, part):
            out.setdefault(sid, []).append(tuple(row))  # type: ignore[arg-type]
    return out


def stored_chunks(
    conn: sqlite3.Connection, sid: int, since_ms: int, until_ms: int, with_open: bool
) -> list[ChunkRow]:
    """The file's chunks of a series that overlap ``[since_ms, until_ms]``."""
    query = (
        "SELECT start, end, count, data, flags FROM chunks "
        "WHERE series = ? AND end >= ? AND start <= ? ORDER BY end"
    )
    rows: list[ChunkRow] = conn.execute(query, (sid, since_ms, until_ms)).fetchall()
    if with_open:
        rows += conn.execute(
            "SELECT start, end, count, data, flags FROM open_chunks "
            "WHERE series = ? AND end >= ? AND start <= ?",
            (sid, since_ms, until_ms),
        ).fetchall()
    return rows


def rollups(
    conn: sqlite3.Connection,
    sid: int | None,
    tier: Tier,
    since: float,
    until: float,
    unsaved: Mapping[tuple[int, int], tuple[float, ...]],
) -> list[Point]:
    """The rollup points of a series whose buckets overlap ``[since, until]``, by time.

    They come from the tier's blocks, its rows, and ``unsaved``: the increments a writer has
    not saved yet. Pieces of one bucket in several of these merge as SQL would merge them.
    """
    return rows_points(rollup_rows(conn, sid, tier, since, until, unsaved))


def rollup_rows(
    conn: sqlite3.Connection,
    sid: int | None,
    tier: Tier,
    since: float,
    until: float,
    unsaved: Mapping[tuple[int, int], tuple[float, ...]],
) -> np.ndarray:
    """What :func:`rollups` returns, as rows ``(t, min, max, sum, count, anomalies)``."""
    table = "minute" if tier is Tier.MINUTE else "quarter"
    first = int(since) - int(since) % tier.value
    parts = [np.array([(t, *agg) for (t, size), agg in unsaved.items() if size == tier.value])]
    if sid is not None:
        parts += _stored_rollups(conn, sid, table, first, until)
    rows = np.concatenate([p.reshape(-1, 6) for p in parts]).astype(np.float64)
    return _merged(rows[(rows[:, 0] >= first) & (rows[:, 0] <= until)])


def rows_points(rows: np.ndarray) -> list[Point]:
    """Rows ``(t, min, max, sum, count, anomalies)`` as points (the mean as ``value``)."""
    t, low, high, total, count, anomalies = rows.T
    return list(
        map(
            Point,
            t.tolist(),
            (total / count).tolist(),
            low.tolist(),
            high.tolist(),
            count.astype(np.int64).tolist(),
            anomalies.astype(np.int64).tolist(),
        )
    )


def chunk_rows(rows: Iterable[ChunkRow], since_ms: int, until_ms: int) -> np.ndarray:
    """Decode chunk rows into rows ``(t, min, max, sum, count, anomalies)`` of single samples
    within ``[since_ms, until_ms]``, sorted by time (what rollups are, one sample each)."""
    parts = []
    for _start, _end, count, data, flags in rows:
        times, values = decode(data, count)
        part = np.empty((count, 6))
        part[:, 0] = np.asarray(times, dtype=np.float64) / 1000
        part[:, 1] = part[:, 2] = part[:, 3] = values
        part[:, 4] = 1.0
        part[:, 5] = decode_flags(flags, count)
        parts.append(part)
    out = np.concatenate(parts) if parts else np.empty((0, 6))
    keep = (out[:, 0] >= since_ms / 1000) & (out[:, 0] <= until_ms / 1000)
    out = out[keep]
    return out[np.argsort(out[:, 0], kind="stable")]


def raw_count(
    conn: sqlite3.Connection, sid: int | None, since_ms: int, until_ms: int, with_open: bool
) -> int:
    """How many raw samples the file's chunks overlapping ``[since_ms, until_ms]`` hold (whole
    chunks: a quick upper bound, read from the chunks' counts alone)."""
    if sid is None:
        return 0
    total = 0
    tables = ("chunks", "open_chunks") if with_open else ("chunks",)
    for table in tables:
        query = (
            f"SELECT coalesce(sum(count), 0) FROM {table} "
            "WHERE series = ? AND end >= ? AND start <= ?"
        )
        total += int(conn.execute(query, (sid, since_ms, until_ms)).fetchone()[0])
    return total


def _stored_rollups(
    conn: sqlite3.Connection, sid: int, table: str, first: int, until: float
) -> list[np.ndarray]:
    """The file's rollups of a series from ``first`` to ``until``: loose rows, then blocks."""
    loose = conn.execute(
        f"SELECT t, min, max, sum, count, anomalies FROM {table} "
        "WHERE series = ? AND t >= ? AND t <= ?",
        (sid, first, until),
    ).fetchall()
    blocks = conn.execute(
        f"SELECT data FROM {table}_blocks WHERE series = ? AND end >= ? AND start <= ? "
        "ORDER BY start",
        (sid, first, until),
    )
    return [np.array(loose), *(decode_block(blob) for (blob,) in blocks)]


def _merged(rows: np.ndarray) -> np.ndarray:
    """Rows sorted by time, those of one bucket merged: min of mins, max of maxes, sums."""
    rows = rows[np.argsort(rows[:, 0], kind="stable")]
    times, starts = np.unique(rows[:, 0], return_index=True)
    if len(times) == len(rows):
        return rows
    merged = np.empty((len(times), 6))
    merged[:, 0] = times
    merged[:, 1] = np.minimum.reduceat(rows[:, 1], starts)
    merged[:, 2] = np.maximum.reduceat(rows[:, 2], starts)
    merged[:, 3:] = np.add.reduceat(rows[:, 3:], starts, axis=0)
    return merged


def newest_chunks(conn: sqlite3.Connection, sid: int, before_ms: int, limit: int) -> list[ChunkRow]:
    """Up to ``limit`` of the file's newest chunks of a series ending before ``before_ms``."""
    return list(
        conn.execute(
            "SELECT start, end, count, data, flags FROM chunks "
            "WHERE series = ? AND end < ? ORDER BY end DESC LIMIT ?",
            (sid, before_ms, limit),
        ).fetchall()
    )
