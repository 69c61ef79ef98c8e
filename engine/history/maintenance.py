"""Provides the store's upkeep: packing settled rollups into blocks and expiring old data."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import numpy as np

from engine.history.blocks import encode_block

TIERS = {"minute": 60, "quarter": 900}
"""Rollup tables and the seconds of their buckets."""
BLOCK_ROWS = {"minute": 360, "quarter": 96}
"""Buckets in a block: six hours of 1-minute rollups, a day of 15-minute ones."""
SETTLE = 3600
"""Seconds behind the newest point a bucket must be before it is packed (a late point may
still add to a newer one; one that comes later still lands in a row beside the block)."""


def compact(conn: sqlite3.Connection, series: Sequence[int], newest_s: int) -> int:
    """Pack every full block's worth of settled rollup rows into blocks (inside a transaction).

    Returns:
        How many blocks were written.
    """
    written = 0
    for table, block_rows in BLOCK_ROWS.items():
        before = newest_s - SETTLE
        for sid in series:
            settled = conn.execute(
                f"SELECT count(*) FROM {table} WHERE series = ? AND t < ?", (sid, before)
            ).fetchone()[0]
            if settled < block_rows:
                continue
            rows = np.array(
                conn.execute(
                    f"SELECT t, min, max, sum, count, anomalies FROM {table} "
                    "WHERE series = ? AND t < ? ORDER BY t LIMIT ?",
                    (sid, before, settled - settled % block_rows),
                ).fetchall(),
                dtype=np.float64,
            )
            blocks = [rows[i : i + block_rows] for i in range(0, len(rows), block_rows)]
            conn.executemany(
                f"INSERT INTO {table}_blocks (series, start, end, data) VALUES (?, ?, ?, ?)",
                [(sid, int(b[0, 0]), int(b[-1, 0]), encode_block(b)) for b in blocks],
            )
            conn.execute(
                f"DELETE FROM {table} WHERE series = ? AND t <= ?", (sid, int(rows[-1, 0]))
            )
            written += len(blocks)
    return written


def expire(
    conn: sqlite3.Connection, series: Sequence[int], raw_ms: int, minute_s: int, quarter_s: int
) -> None:
    """Delete chunks ending before ``raw_ms`` and rollups older than their tier's limit.

    Deletes per series, so each is a range of an index rather than a scan of the table.
    """
    conn.executemany(
        "DELETE FROM chunks WHERE series = ? AND end < ?", [(s, raw_ms) for s in series]
    )
    for table, cutoff in (("minute", minute_s), ("quarter", quarter_s)):
        conn.executemany(
            f"DELETE FROM {table} WHERE series = ? AND t < ?", [(s, cutoff) for s in series]
        )
        conn.executemany(
            f"DELETE FROM {table}_blocks WHERE series = ? AND end < ?",
            [(s, cutoff) for s in series],
        )
