"""Tests that reading the recent points of many series at once, in one snapshot of a real
history file, gives each series exactly what reading it alone gives: sealed chunks, the open
chunk saved in the file, the writer's unsaved tail, a clock that stepped back, series the
file does not hold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.history import HistoryReader, HistoryStore
from engine.history.query import Samples
from tests.engine.history.reads import count_reads

T0 = 1_790_000_100.0
COUNTS = (0, 1, 30, 49, 50, 51, 120, 333, 1000, 1234)
"""Points of the series (chunks of 50: none, part of one, one and a bit, more than 16)."""
WANTS = (1, 7, 50, 120, 2000)


def fill(store: HistoryStore, start: int, stop: int) -> None:
    """Points ``start`` to ``stop`` of every series; some series with a clock that steps back
    or with two points at one time, a few anomalous."""
    rng = np.random.default_rng(start)
    for n, count in enumerate(COUNTS):
        for i in range(start, min(stop, count)):
            t = T0 + 10.0 * i
            if n % 3 == 1 and i > count // 2:
                t -= 2000.0  # the clock stepped back: a new chunk, earlier than the last
            if n % 3 == 2 and i % 17 == 0:
                store.append(f"s{n}", t, float(rng.normal(0, 1)))  # two points at one time
            store.append(f"s{n}", t, float(rng.normal(50, 5)), anomalous=i % 29 == 0)


def keys() -> list[str]:
    return [f"s{n}" for n in range(len(COUNTS))] + ["never/stored"]


def one_by_one(reader: HistoryReader, wants: dict[str, int]) -> dict[str, list[tuple]]:
    return {
        k: [(p.time, p.value, p.anomalous) for p in reader.recent(k, n)] for k, n in wants.items()
    }


def as_rows(samples: dict[str, Samples]) -> dict[str, list[tuple]]:
    return {
        k: list(zip(s.t.tolist(), s.x.tolist(), s.anomalous.tolist(), strict=True))
        for k, s in samples.items()
    }


def check(reader: HistoryReader) -> None:
    for want in WANTS:
        wants = dict.fromkeys(keys(), want)
        assert as_rows(reader.recent_many(wants)) == one_by_one(reader, wants), want
    mixed = {k: WANTS[i % len(WANTS)] * (i % 4 != 3) for i, k in enumerate(keys())}
    assert as_rows(reader.recent_many(mixed)) == one_by_one(reader, mixed)


def test_many_series_read_at_once_are_what_each_read_alone_is(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    store = HistoryStore(path=path, chunk_points=50, flush_interval=3600.0)
    try:
        fill(store, 0, 300)
        store.flush()  # sealed chunks and open ones in the file
        fill(store, 300, 2000)  # and a tail only the writer has: sealed and open, unsaved
        store.append("only/unsaved", T0, 1.0)
        assert len(store.recent("s9", 2000)) == 1234
        check(store)  # the writing process: its unsaved chunks instead of the file's open ones
        with HistoryReader(path) as other:
            check(other)  # another process: the file's open chunks, as last saved
    finally:
        store.close()
    with HistoryReader(path) as reader:
        check(reader)  # everything sealed
        assert reader.recent_many({}) == {}
        got = reader.recent_many({"s9": 0, "never/stored": 5, "s1": 3})
        assert [len(got[k]) for k in ("s9", "never/stored", "s1")] == [0, 0, 1]


def test_many_series_are_read_in_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_reads(monkeypatch)
    with HistoryStore(path=tmp_path / "h.db", chunk_points=50) as store:
        fill(store, 0, 2000)
        store.flush()
        before = reads.transactions
        got = store.recent_many(dict.fromkeys(keys(), 200))
        assert reads.transactions - before == 1
        assert [len(got[k]) for k in keys()] == [len(store.recent(k, 200)) for k in keys()]
        assert reads.transactions - before == 1 + len(keys())  # and one each, alone
