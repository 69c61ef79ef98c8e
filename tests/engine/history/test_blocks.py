"""Tests rollup blocks: packing settled buckets, alone and inside the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pytest

from engine.history import HistoryReader, HistoryStore, Tier
from engine.history.blocks import decode_block, encode_block
from tests.clock import ManualClock

T0 = 1_790_000_100.0


def rollup_rows(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    low = rng.normal(50, 10, n).round(1)
    return np.column_stack(
        [
            T0 + 60 * np.arange(n),
            low,
            low + rng.random(n).round(2),
            (low * 60).round(1) + 0.1 + 0.2,  # a sum with the float error sums leave
            np.full(n, 60.0),
            rng.integers(0, 3, n).astype(float),
        ]
    )


def bitwise(a: np.ndarray) -> np.ndarray:
    return a.view(np.int64)


def test_blocks_round_trip_bit_for_bit() -> None:
    rows = rollup_rows(360)
    blob = encode_block(rows)
    assert np.array_equal(bitwise(decode_block(blob)), bitwise(rows))
    assert len(blob) < 12 * len(rows)  # against ~40 bytes as SQLite rows
    odd = rows.copy()
    odd[3, 1], odd[4, 2], odd[5, 3] = 1 / 3, -0.0, 1e300
    odd[7:, 0] += 3600  # a gap in the buckets
    assert np.array_equal(bitwise(decode_block(encode_block(odd))), bitwise(odd))
    one = rows[:1]
    assert np.array_equal(bitwise(decode_block(encode_block(one))), bitwise(one))


def test_garbage_is_not_a_block() -> None:
    with pytest.raises(ValueError, match="not a rollup block"):
        decode_block(b"\x07")


def test_settled_rollups_are_packed_and_read_back_the_same(tmp_path: Path) -> None:
    clock = ManualClock(0.0)
    path = tmp_path / "h.db"
    values = np.random.default_rng(3).normal(20, 5, 2 * 8640).round(2)
    store = HistoryStore(path=path, clock=clock, expire_interval=1.0)
    for day in range(2):
        for i in range(day * 8640, (day + 1) * 8640):
            store.append("k", T0 + 10 * i, float(values[i]), anomalous=values[i] > 30)
        clock.advance(2.0)
        store.flush()  # the writer's round expires and packs too
    # A late point for a bucket that is packed already merges with it.
    store.append("k", T0 + 5, 1000.0)
    store.flush()
    store.close()
    conn = sqlite3.connect(path)
    packed = conn.execute("SELECT count(*) FROM minute_blocks").fetchone()[0]
    loose = conn.execute("SELECT count(*) FROM minute").fetchone()[0]
    assert packed >= 7 and loose < 360 + 60 + 2
    assert conn.execute("SELECT count(*) FROM quarter_blocks").fetchone()[0] == 1
    with HistoryReader(path) as reader:
        end = T0 + 2 * 86400
        minutes = reader.points("k", T0, end, Tier.MINUTE)
        quarters = reader.points("k", T0, end, Tier.QUARTER)
    assert len(minutes) == 2 * 1440 and len(quarters) == 2 * 96
    per_minute = values.reshape(-1, 6)
    first = minutes[0]
    assert (first.max, first.count) == (1000.0, 7)
    for n, point in enumerate(minutes[1:], start=1):
        chunk = per_minute[n]
        assert (point.min, point.max, point.count) == (chunk.min(), chunk.max(), 6)
        assert point.value == pytest.approx(chunk.mean())
        assert point.anomalies == int((chunk > 30).sum())
    assert sum(q.count for q in quarters) == 2 * 8640 + 1
