"""Provides HistoryReader: the keys, points and recent samples of a history file."""

from __future__ import annotations

import contextlib
import math
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np

from engine.history.config import DAY, HistoryConfig
from engine.history.query import (
    NO_SAMPLES,
    Point,
    Samples,
    Tier,
    chunk_points,
    chunk_rows,
    chunk_samples,
    newest_chunks,
    open_chunks,
    raw_count,
    rollup_rows,
    rows_points,
    series_id,
    series_ids,
    stored_chunks,
)
from engine.history.schema import SchemaError, connect, version
from engine.history.writer import ChunkRow, Unsaved

IDLE_CONNECTIONS = 2
"""Connections kept open between reads. A read borrows one, so the count follows how many
reads run at once, not how many threads ever read (a thread per source, a worker per chart)."""
READ_CACHE_KIB = 128
"""SQLite page cache of a reading connection, KiB: a read walks a series' chunks once, so
a larger cache only keeps pages of series read before (SQLite's default is 2 MiB a
connection); the file's pages stay in the system's cache anyway."""
RAW_SPAN = 6 * 3600.0
"""Longest span answered with raw points by default (21 600 points at 1 Hz)."""
MINUTE_SPAN = 8 * DAY
"""Longest span answered with 1-minute rollups by default; longer ones get 15-minute ones."""


class HistoryReader:
    """Reads a history file while a writer (this process or another) may be writing it.

    Each read borrows a SQLite connection (any thread may read; reads at the same time get
    their own) and reads one snapshot of the file.
    """

    def __init__(self, path: str | Path, config: HistoryConfig | None = None) -> None:
        """Open an existing history file for reading.

        Raises:
            FileNotFoundError: there is no file at ``path``.
            SchemaError: the file is not a history file, or is newer than this code.
        """
        self.path = Path(path)
        self.config = config or HistoryConfig()
        self._idle: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        if not self.path.exists():
            raise FileNotFoundError(f"no history file at {self.path}")
        self._check_version()

    def _check_version(self) -> None:
        from engine.history.schema import VERSION

        with self._borrow() as conn:
            found = version(conn)
        if found == 0:
            raise SchemaError(f"{self.path} is not a gongwatch history file")
        if found > VERSION:
            raise SchemaError(
                f"{self.path} has schema version {found}; this gongwatch reads up to {VERSION}"
            )

    @contextlib.contextmanager
    def _borrow(self) -> Iterator[sqlite3.Connection]:
        """Lend a connection for one read; it goes back to the idle ones afterwards, or is
        closed when ``IDLE_CONNECTIONS`` already wait there."""
        with self._connections_lock:
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = connect(self.path)
            conn.execute(f"PRAGMA cache_size = -{READ_CACHE_KIB}")
        try:
            yield conn
        finally:
            with self._connections_lock:
                keep = len(self._idle) < IDLE_CONNECTIONS
                if keep:
                    self._idle.append(conn)
            if not keep:
                conn.close()

    @contextlib.contextmanager
    def _snapshot(self, key: str) -> Iterator[tuple[sqlite3.Connection, Unsaved]]:
        """One read transaction of the file, taken together with the unsaved chunks of ``key``."""
        with self._snapshot_of((key,)) as (conn, unsaved):
            yield conn, unsaved[key]

    @contextlib.contextmanager
    def _snapshot_of(
        self, keys: Iterable[str]
    ) -> Iterator[tuple[sqlite3.Connection, dict[str, Unsaved]]]:
        """One read transaction of the file, taken together with the unsaved chunks of each
        of ``keys``."""
        with self._borrow() as conn:
            self._before_read()
            with self._writer_lock():
                conn.execute("BEGIN")
                # The first read fixes the snapshot; the writer cannot commit meanwhile.
                conn.execute("SELECT count(*) FROM series WHERE id = 0").fetchone()
                unsaved = {key: self._unsaved(key) for key in keys}
            try:
                yield conn, unsaved
            finally:
                conn.execute("COMMIT")

    def _before_read(self) -> None:
        """Lets a store hand its queued points to the writer before a read."""

    def _writer_lock(self) -> contextlib.AbstractContextManager[object]:
        return contextlib.nullcontext()

    def _unsaved(self, key: str) -> Unsaved:
        return Unsaved()

    def keys(self) -> list[str]:
        """Every metric key the file holds, sorted."""
        with self._borrow() as conn:
            return [row[0] for row in conn.execute("SELECT key FROM series ORDER BY key")]

    def __contains__(self, key: object) -> bool:
        """Whether the file holds a metric ``key``."""
        query = "SELECT 1 FROM series WHERE key = ?"
        if not isinstance(key, str):
            return False
        with self._borrow() as conn:
            return conn.execute(query, (key,)).fetchone() is not None

    def unit(self, key: str) -> str:
        """The unit recorded for a key, or ``""`` (always so in a version 1 file)."""
        with self._borrow() as conn:
            if version(conn) < 2:
                return ""
            row = conn.execute("SELECT unit FROM series WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else ""

    def choose_tier(self, since: float, until: float) -> Tier:
        """The tier a span is read from: raw for hours, 1-minute for days, 15-minute beyond.

        A tier is only chosen when it keeps points that far back.
        """
        span = until - since
        if span <= min(RAW_SPAN, self.config.raw):
            return Tier.RAW
        if span <= min(MINUTE_SPAN, self.config.minute):
            return Tier.MINUTE
        return Tier.QUARTER

    def points(
        self,
        key: str,
        since: float,
        until: float | None = None,
        tier: Tier | None = None,
    ) -> list[Point]:
        """The points of a key between two times, oldest first.

        Args:
            key: the metric key, e.g. ``system/cpu/total``.
            since: seconds since the epoch.
            until: seconds since the epoch; None means now.
            tier: the resolution; None chooses one for the span (see :meth:`choose_tier`).

        Returns:
            Raw points, or rollups (``value`` is the bucket's mean); empty for an unknown key.
        """
        until = time.time() if until is None else until
        tier = tier or self.choose_tier(since, until)
        if tier is Tier.RAW:
            since_ms, until_ms = math.floor(since * 1000), math.ceil(until * 1000)
            with self._snapshot(key) as (conn, unsaved):
                rows = self._chunks(conn, key, unsaved, since_ms, until_ms)
                return chunk_points(rows, since_ms, until_ms)
        return rows_points(self.rows(key, since, until, tier))

    def rows(self, key: str, since: float, until: float, tier: Tier) -> np.ndarray:
        """The points of a key between two times as rows ``(t, min, max, sum, count,
        anomalies)``, oldest first: what :meth:`points` reads, as one array (quicker to
        make and to reduce than a list of points when there are tens of thousands)."""
        with self._snapshot(key) as (conn, unsaved):
            if tier is not Tier.RAW:
                return rollup_rows(conn, series_id(conn, key), tier, since, until, unsaved.buckets)
            since_ms, until_ms = math.floor(since * 1000), math.ceil(until * 1000)
            return chunk_rows(self._chunks(conn, key, unsaved, since_ms, until_ms), since_ms,
                              until_ms)  # fmt: skip

    def raw_count(self, key: str, since: float, until: float) -> int:
        """About how many raw points of a key lie between two times: at most a chunk's worth
        more at each end (counted from the chunks' sizes, nothing decoded)."""
        since_ms, until_ms = math.floor(since * 1000), math.ceil(until * 1000)
        with self._snapshot(key) as (conn, unsaved):
            sid = series_id(conn, key)
            stored = raw_count(conn, sid, since_ms, until_ms, not unsaved.known)
            pending = sum(r[2] for r in unsaved.chunks if r[1] >= since_ms and r[0] <= until_ms)
            return stored + pending

    @staticmethod
    def _chunks(
        conn: sqlite3.Connection, key: str, unsaved: Unsaved, since_ms: int, until_ms: int
    ) -> list[tuple[int, int, int, bytes, bytes]]:
        sid = series_id(conn, key)
        rows = []
        if sid is not None:
            rows = stored_chunks(conn, sid, since_ms, until_ms, not unsaved.known)
        return [*rows, *unsaved.chunks]

    def recent(self, key: str, n: int) -> list[Point]:
        """The last ``n`` raw points of a key, oldest first (fewer if the file has fewer).

        Made for warming up a detector at start: it reads only the newest chunks.
        """
        if n <= 0:
            return []
        with self._snapshot(key) as (conn, unsaved):
            sid = series_id(conn, key)
            rows = list(unsaved.chunks)
            if sid is not None and not unsaved.known:
                rows += conn.execute(
                    "SELECT start, end, count, data, flags FROM open_chunks WHERE series = ? "
                    "ORDER BY start, id",
                    (sid,),
                ).fetchall()
            rows += _older(conn, sid, rows, n)
            return chunk_points(rows, -(2**62), 2**62)[-n:]

    def recent_many(self, wants: Mapping[str, int]) -> dict[str, Samples]:
        """The last raw points of many keys, oldest first, from one snapshot of the file: what
        :meth:`recent` returns of each, as arrays.

        Made for warming up the detectors of many series at once: one read transaction, the
        ids and the open chunks of all of them in a query or two, then each one's newest
        sealed chunks (a query on the index each, as ``recent`` does), decoding only those
        that may hold some of the points asked for.

        Args:
            wants: how many points of each key (fewer if the file has fewer; none for 0).

        Returns:
            The samples of every key of ``wants`` (empty for a key the file does not hold).
        """
        out = dict.fromkeys(wants, NO_SAMPLES)
        keys = [key for key, n in wants.items() if n > 0]
        if not keys:
            return out
        with self._snapshot_of(keys) as (conn, unsaved):
            ids = series_ids(conn, keys)
            opened = open_chunks(conn, [ids[k] for k in keys if k in ids and not unsaved[k].known])
            for key in keys:
                sid, n = ids.get(key), wants[key]
                rows = [*unsaved[key].chunks, *opened.get(sid, ())]  # type: ignore[arg-type]
                out[key] = chunk_samples(rows, _older(conn, sid, rows, n), n)
        return out

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the idle connections (a read still running closes its own when it ends)."""
        with self._connections_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _older(
    conn: sqlite3.Connection, sid: int | None, rows: list[ChunkRow], n: int
) -> list[ChunkRow]:
    """While ``rows`` (a series' unsaved and open chunks) and those found so far hold fewer
    than ``n`` points, the newest sealed chunks that end before them, sixteen at a time:
    newest end first."""
    found: list[ChunkRow] = []
    before = min((row[0] for row in rows), default=2**62)
    have = sum(row[2] for row in rows)
    while sid is not None and have < n:
        older = newest_chunks(conn, sid, before, 16)
        if not older:
            break
        found += older
        have += sum(row[2] for row in older)
        before = older[-1][1]
    return found
