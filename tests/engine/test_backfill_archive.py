"""Tests that a backfilled past is written to a real history file after what the file already
holds of it, and that the file is read once for every series, not once a series."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from collectors.base import Batch, Reading
from collectors.prometheus_range import Past
from engine import Engine
from engine.config import Config
from engine.history import HistoryStore
from engine.remember import StoreArchive
from tests.engine.history.reads import count_reads

SERIES = 30


class PastSource:
    """A source with a past to give (as the Prometheus collector's ``query_range``)."""

    name = "past"

    def __init__(self, t0: float) -> None:
        self.t0 = t0

    def poll(self) -> Batch:
        return Batch(self.name, (Reading("past/s0", 1.0, "", time.time()),))

    def backfill(self) -> Past:
        series = {f"past/s{i}": [(self.t0 + k, float(k)) for k in range(10)] for i in range(SERIES)}
        return Past(self.name, series)

    def close(self) -> None:
        pass


def test_the_past_goes_after_what_the_file_holds_in_one_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    t0 = float(int(time.time()) - 600)  # whole seconds: the file keeps milliseconds
    path = tmp_path / "history.db"
    kept = HistoryStore(path=path)
    for k in range(6):  # an earlier run kept the first six points of s0
        kept.append("past/s0", t0 + k, 100.0 + k)
    kept.close()
    reads = count_reads(monkeypatch)  # before the store opens its first reading connection
    store = HistoryStore(path=path)
    engine = Engine(Config(), [], archive=StoreArchive(store))
    source = PastSource(t0)
    try:
        fed = engine.backfills._feed(source.name, source.backfill().series)
        before = reads.transactions
        engine.backfills._release(source.name, fed)
        assert reads.transactions - before == 1
        store.flush()
        s0 = [(p.time - t0, p.value) for p in store.recent("past/s0", 100)]
        s1 = [(p.time - t0, p.value) for p in store.recent("past/s1", 100)]
    finally:
        engine.stop()
        store.close()
    assert s0 == [*[(k, 100.0 + k) for k in range(6)], *[(k, float(k)) for k in range(6, 10)]]
    assert s1 == [(k, float(k)) for k in range(10)]
