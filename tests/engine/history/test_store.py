"""Tests the history store on real SQLite files: writes, tiers, readers, limits."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine.history import HistoryConfig, HistoryReader, HistoryStore, Tier
from tests.clock import ManualClock

ROOT = Path(__file__).resolve().parents[3]
T0 = 1_790_000_100.0  # a whole quarter hour, so buckets line up with the test's seconds


def fill(store: HistoryStore, key: str, values: list[float], step: float = 1.0) -> None:
    for i, value in enumerate(values):
        store.append(key, T0 + i * step, value, anomalous=value > 90)


def test_points_come_back_from_another_reader(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    values = [float(v) for v in np.random.default_rng(0).integers(0, 100, 1000)]
    with HistoryStore(path=path) as store:
        fill(store, "system/cpu/total", values)
        store.append("system/load/1m", T0, 0.5)
    reader = HistoryReader(path)
    assert reader.keys() == ["system/cpu/total", "system/load/1m"]
    assert "system/cpu/total" in reader and "nope" not in reader
    points = reader.points("system/cpu/total", T0, T0 + 999)
    assert [p.value for p in points] == values
    assert [p.time for p in points] == [T0 + i for i in range(1000)]
    assert [p.anomalous for p in points] == [v > 90 for v in values]
    assert [p.value for p in reader.points("system/cpu/total", T0 + 10, T0 + 12)] == values[10:13]
    assert reader.points("unknown/key", T0, T0 + 10) == []
    reader.close()


def test_rollups_hold_min_max_mean_count_and_anomalies(tmp_path: Path) -> None:
    values = [float(v) for v in np.random.default_rng(1).normal(50, 30, 3600)]
    with HistoryStore(path=tmp_path / "h.db") as store:
        fill(store, "k", values)
        minutes = store.points("k", T0, T0 + 3599, Tier.MINUTE)
        quarters = store.points("k", T0, T0 + 3599, Tier.QUARTER)
    for tier, points, size in ((Tier.MINUTE, minutes, 60), (Tier.QUARTER, quarters, 900)):
        assert len(points) == 3600 // size, tier
        for n, point in enumerate(points):
            chunk = values[n * size : (n + 1) * size]
            assert point.time == T0 + n * size
            assert (point.min, point.max, point.count) == (min(chunk), max(chunk), size)
            assert point.value == pytest.approx(sum(chunk) / size)
            assert point.anomalies == sum(v > 90 for v in chunk)


def test_the_tier_follows_the_span(tmp_path: Path) -> None:
    with HistoryStore(path=tmp_path / "h.db") as store:
        assert store.choose_tier(T0, T0 + 3600) is Tier.RAW
        assert store.choose_tier(T0, T0 + 3 * 86400) is Tier.MINUTE
        assert store.choose_tier(T0, T0 + 30 * 86400) is Tier.QUARTER
        fill(store, "k", [1.0] * 7200)
        assert store.points("k", T0, T0 + 7200)[0].count == 1
    short = HistoryConfig(raw=600.0)
    with HistoryStore(short, path=tmp_path / "h.db") as store:
        # Raw points are kept ten minutes only, so an hour is read from the rollups.
        assert store.choose_tier(T0, T0 + 3600) is Tier.MINUTE
        assert store.points("k", T0, T0 + 3599)[0].count == 60


def test_unsaved_points_are_seen_by_the_writing_process_only(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    store = HistoryStore(path=path, flush_interval=3600.0)
    fill(store, "k", [1.0, 2.0, 3.0])
    assert [p.value for p in store.points("k", T0, T0 + 10)] == [1.0, 2.0, 3.0]
    assert [p.value for p in store.recent("k", 2)] == [2.0, 3.0]
    other = HistoryReader(path)
    assert other.points("k", T0, T0 + 10) == []
    store.flush()
    assert [p.value for p in other.points("k", T0, T0 + 10)] == [1.0, 2.0, 3.0]
    store.append("k", T0 + 3, 4.0)
    assert [p.value for p in store.recent("k", 10)] == [1.0, 2.0, 3.0, 4.0]
    assert [p.value for p in other.recent("k", 10)] == [1.0, 2.0, 3.0]
    store.close()
    assert [p.value for p in other.recent("k", 10)] == [1.0, 2.0, 3.0, 4.0]
    other.close()


def test_recent_reads_the_last_points_across_chunks(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with HistoryStore(path=path, chunk_points=50) as store:
        fill(store, "k", [float(i) for i in range(1000)])
        fill(store, "other", [7.0] * 10)
        assert [p.value for p in store.recent("k", 120)] == [float(i) for i in range(880, 1000)]
    with HistoryReader(path) as reader:
        assert [p.value for p in reader.recent("k", 3)] == [997.0, 998.0, 999.0]
        assert len(reader.recent("k", 5000)) == 1000
        assert reader.recent("missing", 5) == []
        assert reader.recent("k", 0) == []


def test_old_points_expire_tier_by_tier(tmp_path: Path) -> None:
    clock = ManualClock(0.0)
    config = HistoryConfig(raw=3600.0, minute=4 * 3600.0, quarter=12 * 3600.0)
    path = tmp_path / "h.db"
    store = HistoryStore(config, path=path, clock=clock, chunk_points=60, expire_interval=10.0)
    for hour in range(24):
        # One point a minute for a day of data time.
        for minute in range(60):
            store.append("k", T0 + hour * 3600 + minute * 60, float(minute))
        clock.advance(11.0)
        store.flush()
    store.close()
    newest = T0 + 24 * 3600 - 60
    with HistoryReader(path, config) as reader:
        raw = reader.points("k", T0, newest, Tier.RAW)
        minutes = reader.points("k", T0, newest, Tier.MINUTE)
        quarters = reader.points("k", T0, newest, Tier.QUARTER)
    # Whole chunks expire: what is left starts less than a chunk (an hour) before the limit.
    assert newest - 2 * 3600 <= raw[0].time <= newest - 3600 and raw[-1].time == newest
    assert newest - 4 * 3600 - 60 <= minutes[0].time <= newest - 4 * 3600 + 60
    assert newest - 12 * 3600 - 900 <= quarters[0].time <= newest - 12 * 3600 + 900


def test_a_full_queue_drops_and_says_so_without_blocking(tmp_path: Path) -> None:
    lines: list[str] = []
    store = HistoryStore(path=tmp_path / "h.db", queue_size=100, on_event=lines.append)
    accepted = [store.append("k", T0 + i, 1.0) for i in range(10_000)]
    store.flush()
    stats = store.stats()
    assert accepted.count(False) == stats.dropped > 0
    assert stats.appended + stats.dropped == 10_000
    assert any("dropped" in line for line in lines)
    assert len(store.points("k", T0, T0 + 10_000)) == stats.appended
    store.close()


def test_checkpoints_keep_the_wal_small(tmp_path: Path) -> None:
    clock = ManualClock(0.0)
    path = tmp_path / "h.db"
    store = HistoryStore(path=path, clock=clock, checkpoint_interval=5.0)
    fill(store, "k", [float(i % 13) for i in range(20_000)])
    store.flush()
    wal = Path(f"{path}-wal")
    assert wal.stat().st_size > 0
    clock.advance(6.0)
    store.flush()  # the writer's next round checkpoints (TRUNCATE) as well as flushes
    store.append("k", T0 + 30_000, 1.0)
    store.flush()
    assert wal.stat().st_size < 64 * 1024
    store.close()
    assert not wal.exists() or wal.stat().st_size == 0


def test_readers_read_while_the_writer_writes(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    store = HistoryStore(path=path, flush_interval=0.05)
    stop = threading.Event()
    seen: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        reader = HistoryReader(path)
        try:
            while not stop.is_set():
                points = reader.points("k", T0, T0 + 10**6, Tier.RAW)
                values = [p.value for p in points]
                assert values == [float(i) for i in range(len(values))]  # a prefix, no gaps
                seen.append(len(values))
        except BaseException as error:
            errors.append(error)
        finally:
            reader.close()

    thread = threading.Thread(target=read)
    thread.start()
    for batch in range(30):
        for i in range(batch * 1000, (batch + 1) * 1000):
            store.append("k", T0 + i * 0.01, float(i))
        store.flush()
    deadline = time.monotonic() + 30
    while (not seen or seen[-1] < 30_000) and not errors and time.monotonic() < deadline:
        time.sleep(0.01)
    stop.set()
    thread.join()
    store.close()
    assert not errors, errors
    assert seen[-1] == 30_000 and len(set(seen)) > 2  # the reader saw the file grow


def test_another_process_reads_the_file_being_written(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    with HistoryStore(path=path) as store:
        fill(store, "k", [float(i) for i in range(500)])
        store.flush()
        code = (
            "import sys; from engine.history import HistoryReader;"
            f"r = HistoryReader({str(path)!r});"
            f"print(len(r.points('k', {T0}, {T0 + 1000})), r.keys())"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
        )
        assert out.stdout.split() == ["500", "['k']"]


def test_a_missing_or_foreign_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no history file"):
        HistoryReader(tmp_path / "missing.db")
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    from engine.history import SchemaError

    with pytest.raises(SchemaError, match="not a gongwatch history file"):
        HistoryReader(other)


def test_the_default_file_is_in_the_xdg_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    with HistoryStore() as store:
        store.append("k", T0, 1.0)
    assert (tmp_path / "state" / "gongwatch" / "history.db").exists()
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert (
        HistoryConfig().file == tmp_path / "home" / ".local" / "state" / "gongwatch" / "history.db"
    )


def test_config_table_reads_durations_and_names_bad_keys() -> None:
    config = HistoryConfig.from_table(
        {"path": "~/h.db", "raw": "1d", "minute": "7d", "quarter": "1y"}
    )
    assert (config.raw, config.minute, config.quarter) == (86400.0, 7 * 86400.0, 365 * 86400.0)
    assert config.file == Path("~/h.db").expanduser()
    with pytest.raises(ValueError, match=r"history\.raw: not a duration: '2 days'"):
        HistoryConfig.from_table({"raw": "2 days"})
    with pytest.raises(ValueError, match=r"history\.rwa: unknown key"):
        HistoryConfig.from_table({"rwa": "2d"})


def test_bad_points_are_refused_and_the_writer_goes_on(tmp_path: Path) -> None:
    lines: list[str] = []
    with HistoryStore(path=tmp_path / "h.db", on_event=lines.append) as store:
        store.append("k", float("nan"), 1.0)
        store.append("k", T0, "garbage")  # type: ignore[arg-type]
        store.append(7, T0, 1.0)  # type: ignore[arg-type]
        store.append("k", T0 + 1, np.float64(2.5), anomalous=np.bool_(True))  # type: ignore[arg-type]
        store.append("k", T0 + 2, float("nan"))
        store.flush()
        points = store.points("k", T0, T0 + 10)
    assert [p.value for p in points][:1] == [2.5] and points[0].anomalous
    assert points[1].value != points[1].value  # NaN is a value like any other
    assert len(lines) == 1 and "refused a point of 'k' at nan" in lines[0]


def test_what_a_dead_process_left_open_is_sealed_by_the_writer_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Opening the store (before a screen's first frame) does not wait for the sealing."""
    from engine.history.writer import Writer

    path = tmp_path / "h.db"
    first = HistoryStore(path=path, flush_interval=0.05)
    fill(first, "a/b", [1.0, 2.0, 3.0])
    first.flush()  # saved as an open chunk's segments; the process "dies" without closing
    first._writer.conn.close()
    threads: list[str] = []
    recover = Writer.recover

    def watched(self: Writer) -> int:
        threads.append(threading.current_thread().name)
        return recover(self)

    monkeypatch.setattr(Writer, "recover", watched)
    with HistoryStore(path=path) as second:
        second.flush()
        assert threads == ["history-writer"]
        assert second.stats().recovered == 1
        assert [p.value for p in second.points("a/b", 0, T0 + 10, Tier.RAW)] == [1.0, 2.0, 3.0]
