"""Tests the disturbance scorer on tiny hand-made recordings, and that the shipped 1 s
recording and its labels load and agree with each other."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from detectors.episodes import (
    Disturbance,
    catch,
    episodes,
    false_alarms,
    quiet_mask,
    quiet_seconds,
)

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "benchmarks" / "data" / "disturbances"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "disturbances_bench", ROOT / "benchmarks" / "disturbances.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _flags(t: np.ndarray, *times: float) -> np.ndarray:
    return np.isin(t, np.array(times))


T = np.arange(0.0, 400.0)  # one point a second
BURN = Disturbance("cpu_burn", 100.0, 130.0, ("system/cpu/total", "system/cpu/0"))


def test_caught_on_the_first_expected_metric_to_flag() -> None:
    flagged = {
        "system/cpu/total": (T, _flags(T, 107.0)),
        "system/cpu/0": (T, _flags(T, 104.0, 105.0)),
        "system/net/rx": (T, _flags(T, 100.0)),  # not an expected metric: does not count
    }
    got = catch(BURN, flagged)
    assert got.delay == 4.0
    assert got.key == "system/cpu/0"


def test_a_flag_after_ten_seconds_or_before_the_start_is_no_catch() -> None:
    late = {"system/cpu/total": (T, _flags(T, 99.0, 111.0, 120.0))}
    got = catch(BURN, late)
    assert got.delay is None and got.key is None
    on_time = {"system/cpu/total": (T, _flags(T, 99.0, 110.0))}
    assert catch(BURN, on_time).delay == 10.0  # the 10th second still counts


def test_episodes_merge_flags_closer_than_thirty_seconds() -> None:
    flags = _flags(T, 10.0, 11.0, 12.0, 40.0, 70.0, 300.0)
    # 12 -> 40 is 28 s: merged; 40 -> 70 is exactly 30 s: a new episode.
    assert episodes(T, flags) == [(10.0, 40.0), (70.0, 70.0), (300.0, 300.0)]
    assert episodes(T, np.zeros(T.size, dtype=bool)) == []


def test_false_alarms_count_only_quiet_time_and_the_tail_is_not_quiet() -> None:
    # Window 100..130 plus its 60 s tail: 100..190 is not quiet.
    flags = _flags(T, 20.0, 105.0, 150.0, 190.0, 191.0, 192.0, 350.0)
    assert false_alarms(T, flags, [BURN]) == [(20.0, 20.0), (191.0, 192.0), (350.0, 350.0)]
    assert quiet_mask(T, [BURN]).sum() == 400 - 91
    assert quiet_seconds((0.0, 400.0), [BURN]) == pytest.approx(310.0)
    overlapping = [BURN, Disturbance("disk_write", 150.0, 160.0, ("system/disk/write",))]
    assert quiet_seconds((0.0, 400.0), overlapping) == pytest.approx(400.0 - (220.0 - 100.0))


def test_replay_of_a_tiny_recording_through_a_registered_detector(tmp_path: Path) -> None:
    bench = _bench()
    rng = np.random.default_rng(0)
    cpu = 10 + rng.normal(0, 1, T.size)
    cpu[200:230] = 100.0  # a burn the detector cannot miss
    net = 5000 + rng.normal(0, 50, T.size)
    with gzip.open(tmp_path / "recording.csv.gz", "wt") as f:
        f.write("time,key,value\n")
        for i, ti in enumerate(T + 1.8e9):
            f.write(f"{ti:.3f},system/cpu/total,{cpu[i]:.6g}\n")
            f.write(f"{ti:.3f},system/net/rx,{net[i]:.6g}\n")
    labels = [
        {"kind": "cpu_burn", "start": 1.8e9 + 200, "end": 1.8e9 + 230, "keys": ["system/cpu/total"]}
    ]
    (tmp_path / "labels.json").write_text(json.dumps(labels))
    series = bench.load_recording(tmp_path / "recording.csv.gz")
    assert sorted(series) == ["system/cpu/total", "system/net/rx"]
    flagged = bench.flag_series("gaussian", series, None)
    got = catch(bench.load_labels(tmp_path / "labels.json")[0], flagged)
    assert got.key == "system/cpu/total" and got.delay == 0.0


def test_the_shipped_recording_and_its_labels_agree() -> None:
    bench = _bench()
    series = bench.load_recording(SHIPPED / "recording.csv.gz")
    labels = bench.load_labels(SHIPPED / "labels.json")
    lo, hi = bench.span_of(series)
    assert hi - lo > 3000 and len(labels) >= 6
    assert {d.kind for d in labels} >= {
        "cpu_burn",
        "memory_balloon",
        "disk_write",
        "fork_storm",
        "net_loopback",
    }
    for d in labels:
        assert lo <= d.start < d.end <= hi, d
        assert d.keys and all(k in series for k in d.keys), d
    for t, x in series.values():
        assert np.all(np.diff(t) > 0) and np.all(np.isfinite(x))
