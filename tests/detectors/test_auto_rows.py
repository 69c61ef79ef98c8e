"""Tests ``AutoRows``: named series that come and go in one bank give what one ``Auto`` per
series gives, reasons in words included, and the bank grows in chunks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors.auto import Auto
from detectors.auto_bank import AutoBank, _columns, bytes_per_series
from detectors.auto_rows import CHUNK, FEW, AutoRows
from tests.verdicts import assert_same


class Both:
    """The same series in ``AutoRows`` and in one ``Auto`` each; every verdict compared."""

    def __init__(self) -> None:
        self.rows = AutoRows()
        self.singles: dict[str, Auto] = {}
        self.reasons: list[str] = []

    def step(self, t: float, values: dict[str, float]) -> None:
        self.rows.add(values)
        got = self.rows.step(t, list(values), list(values.values()))
        for (name, x), v in zip(values.items(), got, strict=True):
            want = self.singles.setdefault(name, Auto()).update(t, x)
            assert_same(v, want, (name, t))
            self.reasons.append(want.reason)

    def retire(self, name: str) -> None:
        self.rows.retire([name])
        del self.singles[name]


def test_series_that_come_and_go_match_their_own_auto() -> None:
    rng = np.random.default_rng(1)
    both = Both()
    for i in range(1500):
        t = 60.0 * i
        values = {
            "noise": rng.normal(0, 1) + (30.0 if i == 1200 else 0.0),
            "climb": 0.03 * i + rng.normal(0, 0.1),
            "gappy": rng.normal(5, 2) if i % 5 else math.nan,
        }
        if i >= 300:
            values["late"] = rng.normal(-4, 1) + (25.0 if i == 900 else 0.0)
        if i < 600 or i >= 700:  # leaves for a while: its state waits
            values["away"] = rng.normal(10, 1) + 0.3 * max(i - 1420, 0)  # to a new high
        if i == 1000:
            both.retire("noise")  # its row is reused by the next new series
        if i >= 1000:
            values.pop("noise")
            values["newcomer"] = rng.normal(3, 1) + (20.0 if i == 1400 else 0.0)
        both.step(t, values)
    assert both.rows.rows["newcomer"] == 0  # the retired row, reset
    assert len(both.rows) == 5 and both.rows.capacity == CHUNK
    reasons = both.reasons
    assert any("its usual change" in w for w in reasons)
    assert any("above its highest" in w for w in reasons)
    assert any(w.endswith("(ongoing)") for w in reasons)


def test_warmed_rows_match_autos_fed_the_same_points() -> None:
    rng = np.random.default_rng(2)
    t1 = 5.0 + 10.0 * np.arange(300)
    x1 = rng.normal(5, 1, 300)
    x1[200], x1[250] = math.nan, 40.0  # a gap, and a spike that is still a run at the end
    t2 = 2000.0 + 7.0 * np.arange(250)
    t2[100] = t2[99]  # two points at one time
    t2[150] = 100.0  # the clock went back
    x2 = rng.normal(-3, 2, 250)
    past = {"a": (t1, x1), "b": (t2, x2), "none": (np.zeros(0), np.zeros(0))}
    both = Both()
    both.step(0.0, {"live": 1.0})
    both.rows.add(past)
    both.rows.warm(past)
    for name, (t, x) in past.items():
        det = both.singles[name] = Auto()
        for a, b in zip(t.tolist(), x.tolist(), strict=True):
            det.update(a, b)
    for i in range(300):
        values = rng.normal(0, 1, 4) + (50.0 if i == 200 else 0.0)
        both.step(
            4000.0 + 10.0 * i, dict(zip(["live", "a", "b", "none"], values.tolist(), strict=True))
        )


def test_the_bank_grows_in_chunks() -> None:
    rows = AutoRows()
    capacities = set()
    for i in range(5000):
        rows.add([f"s{i}"])
        capacities.add(rows.capacity)
    assert rows.capacity >= 5000
    assert len(capacities) <= 12  # each growth adds half as many again: a few copies in all


def test_a_grown_bank_holds_its_state_per_series() -> None:
    bank = AutoBank(3)
    for i in range(40):  # five-minute steps: its seasonal rings are made
        bank.update(300.0 * i, np.ones(3))
    bank.grow(5)
    for i in range(40, 80):
        bank.update(300.0 * i, np.ones(8))
    arrays = [*bank.f.values(), *bank.i.values(), bank.quantum, bank.ring, bank.on]
    arrays += bank.seasons.arrays()
    assert all(a.shape[-1] == 8 for a in arrays)
    assert sum(a.nbytes for a in arrays) == 8 * bytes_per_series(1, 288 + 2016)


def test_a_series_has_one_value_per_step() -> None:
    rows = AutoRows()
    rows.add(["a"])
    with pytest.raises(ValueError):
        rows.step(0.0, ["a", "a"], [1.0, 2.0])


def test_a_past_point_without_a_time_is_refused_and_leaves_the_series_as_they_were() -> None:
    rows = AutoRows()
    rows.add(["a"])
    with pytest.raises(ValueError):
        rows.warm({"a": (np.array([1.0, math.nan]), np.array([1.0, 2.0]))})
    assert rows.step(0.0, ["a"], [1.0]) == [Auto().update(0.0, 1.0)]


def test_the_new_series_of_two_banks_fed_together_match_their_own_auto() -> None:
    rng = np.random.default_rng(6)
    past = {
        name: (start + step * np.arange(400), rng.normal(level, 1, 400))
        for name, start, step, level in (("a", 0.3, 5.0, 10.0), ("b", 1.1, 5.0, -4.0))
    }
    past["c"] = (2.0 + 60.0 * np.arange(90), rng.normal(0, 3, 90))  # fewer, further apart
    one, other = Both(), Both()
    one.rows.add(["a", "c"])
    other.rows.add(["b"])
    together = one.rows.past(past)
    one.rows.take(together, ["a", "c"])
    other.rows.take(together, ["b", "not held"])
    for both, names in ((one, ["a", "c"]), (other, ["b"])):
        for name in names:
            det = both.singles[name] = Auto()
            for a, b in zip(past[name][0].tolist(), past[name][1].tolist(), strict=True):
                det.update(a, b)
    for i in range(200):
        spike = 30.0 if i == 150 else 0.0
        t = 6000.0 + 5.0 * i
        one.step(t, {"a": rng.normal(10, 1) + spike, "c": rng.normal(0, 3)})
        other.step(t + 0.8, {"b": rng.normal(-4, 1) - spike})
    assert any("above its highest" in w or "its usual change" in w for w in one.reasons)
    assert any("below its lowest" in w or "its usual change" in w for w in other.reasons)


def test_few_series_fed_each_through_an_auto_hold_the_state_a_bank_replay_gives() -> None:
    """``past`` feeds fewer than ``FEW`` series through an ``Auto`` each and copies their
    state in; more, through one bank. Both must hold every number of state alike."""
    rng = np.random.default_rng(8)
    points = {}
    for i in range(FEW + 4):
        step = (1.0, 60.0, 300.0, 3600.0)[i % 4]  # 5-minute and hourly ones keep seasons
        t = 1000.0 * i + step * np.arange(700)
        x = 20 * np.sin(2 * np.pi * t / 86400.0) + rng.normal(0, 1, 700)
        x[::97] = math.nan
        x[650] += 40.0  # a run at the end
        if i % 5 == 0:
            t[300:] -= 50 * step  # the clock went back
        points[f"s{i}"] = (t, x)
    together = AutoRows().past(points)
    assert len(together) == FEW + 4
    for name in points:
        alone = AutoRows().past({name: points[name]})
        mine, theirs = together.rows[name], alone.rows[name]
        assert together._t0[mine] == alone._t0[theirs]
        assert together._why[mine] == alone._why[theirs]
        for path, (_, _, a) in _columns(together.bank, together.bank.n):
            b = dict(_columns(alone.bank, alone.bank.n))[path][2]
            a, b = np.atleast_1d(a[..., mine]), np.atleast_1d(b[..., theirs])
            rows = min(len(a), len(b))  # a seasonal ring has the longest period's rows
            got, want = a[:rows].tolist(), b[:rows].tolist()
            assert got == pytest.approx(want, rel=1e-9, abs=1e-12, nan_ok=True), path
    assert {w for w in together._why if w}  # some reasons were written
