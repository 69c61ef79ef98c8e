"""Tests ``AutoEach``: a few series judged one ``Auto`` each give what the same series give in
``AutoRows`` (the engine's banks before), through series that come, leave, fall silent and are
warmed, and go on alike once moved into an ``AutoRows``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors.auto_each import AutoEach
from detectors.auto_rows import AutoRows
from tests.verdicts import assert_same


class Pair:
    """The same series in an ``AutoEach`` and in an ``AutoRows``; every verdict compared."""

    def __init__(self) -> None:
        self.each: AutoEach | AutoRows = AutoEach()
        self.rows = AutoRows()
        self.reasons: list[str] = []

    def step(self, t: float, values: dict[str, float]) -> None:
        for kind in (self.each, self.rows):
            kind.add(values)
        got = self.each.step(t, list(values), list(values.values()))
        want = self.rows.step(t, list(values), list(values.values()))
        for name, g, w in zip(values, got, want, strict=True):
            assert_same(g, w, (name, t))
            self.reasons.append(w.reason)

    def do(self, method: str, *args: object) -> None:
        getattr(self.each, method)(*args)
        getattr(self.rows, method)(*args)


def test_a_few_series_each_judged_alone_match_a_bank_of_them() -> None:
    rng = np.random.default_rng(7)
    pair = Pair()
    t1 = 5.0 + 10.0 * np.arange(300) - 10_000.0
    x1 = rng.normal(5, 1, 300)
    x1[250] = 40.0  # still a run when the live points come
    past = {"warm": (t1, x1), "none": (np.zeros(0), np.zeros(0))}
    for i in range(1200):
        t = 60.0 * i
        values = {
            "check": rng.normal(0.2, 0.02) + (0.5 if 880 <= i < 930 else 0.0),
            "climb": 0.03 * i + rng.normal(0, 0.1),
            "gappy": rng.normal(5, 2) if i % 5 else math.nan,
        }
        if i == 0:
            pair.do("add", past)
            pair.do("warm", past)
        if i < 400 or i >= 500:
            values["warm"] = rng.normal(5, 1)
        if i == 700:
            pair.do("retire", ["climb"])  # back afresh at the next point
        if i == 900:  # the same series moved into a bank mid-run go on as they were
            assert isinstance(pair.each, AutoEach)
            pair.each = pair.each.banked()
        pair.step(t, values)
        if i == 450:
            assert pair.each.silent(t - 60.0) == pair.rows.silent(t - 60.0) == ["warm"]
    assert set(pair.each.rows) == set(pair.rows.rows)
    assert sorted(pair.each.silent(math.inf)) == sorted(pair.rows.silent(math.inf))
    assert any("its usual change" in w for w in pair.reasons)
    assert any(w.endswith("(ongoing)") for w in pair.reasons)


def test_a_series_has_one_value_per_step() -> None:
    each = AutoEach()
    each.add(["a"])
    with pytest.raises(ValueError):
        each.step(0.0, ["a", "a"], [1.0, 2.0])


def test_a_past_point_without_a_time_is_refused_and_leaves_the_series_as_they_were() -> None:
    each = AutoEach()
    each.add(["a"])
    held = each.rows["a"]
    with pytest.raises(ValueError):
        each.warm({"a": (np.array([0.0, math.nan]), np.array([1.0, 2.0]))})
    assert each.rows["a"] is held


def test_a_series_out_of_a_bank_goes_on_as_its_own_auto_seasons_included() -> None:
    """``AutoBank.auto`` undoes ``AutoBank.of``: 5-minute series with a daily season, a gap
    and a run going on, taken out of a bank, give what their own ``Auto`` gives next."""
    rng = np.random.default_rng(9)
    t = 300.0 * np.arange(1200)
    daily = 10.0 * np.sin(2 * np.pi * t / 86400.0)
    x = {name: daily + rng.normal(0, 1, len(t)) + shift for name, shift in (("a", 0), ("b", 50))}
    x["b"][1100:] += 40.0
    x["a"][500] = math.nan
    rows = AutoRows()
    rows.add(x)
    rows.warm({name: (t[:1150], v[:1150]) for name, v in x.items()})
    each = AutoEach()
    each.add(x)
    each.take(rows, x)
    assert each.rows["a"]._seasons.seasons[0].period > 0  # the season is known: its ring moved
    for k in range(1150, 1200):
        values = [float(x[name][k]) for name in x]
        for g, w in zip(
            each.step(t[k], list(x), values), rows.step(t[k], list(x), values), strict=True
        ):
            assert_same(g, w, k)
