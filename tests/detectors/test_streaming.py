"""Tests every streaming detector on synthetic series whose answer is known."""

from __future__ import annotations

import math

import numpy as np
import pytest

import detectors
from detectors.cv import CoefficientOfVariation
from detectors.gaussian import Gaussian, MultiGaussian, default_epsilon
from detectors.limits import Limits
from detectors.season import DAY, WEEK, SeasonOverSeason
from detectors.smoothing import ExponentialMovingAverage, SimpleMovingAverage


def test_limits_warning_and_critical() -> None:
    det = Limits(high=80.0, crit_high=90.0, low=5.0)
    assert not det.update(0, 50.0).anomalous
    warn = det.update(1, 85.0)
    assert warn.anomalous and warn.severity == "warning" and warn.score == pytest.approx(0.75)
    crit = det.update(2, 95.0)
    assert crit.severity == "critical" and crit.score == 1.0
    assert det.update(3, 1.0).severity == "warning"
    assert det.update(4, math.nan).score == 0.0


def test_cv_is_graphite_stdev_over_mean() -> None:
    det = CoefficientOfVariation(window=4, threshold=0.5)
    for i, x in enumerate([10.0, 10.0, 10.0]):
        det.update(i, x)
    v = det.update(3, 30.0)
    # Window 10, 10, 10, 30: mean 15, population stdev sqrt(75) = 8.66, cv = 0.577.
    assert v.expected == pytest.approx(15.0)
    assert v.reason == "cv=0.58" and v.anomalous
    # Window 10, 10, 30, 10 after the next point: the same spread, still anomalous.
    assert det.update(4, 10.0).reason == "cv=0.58"


def test_season_compares_with_a_day_and_a_week_before() -> None:
    det = SeasonOverSeason(threshold=0.5)
    step = 3600.0
    t = np.arange(0, 9 * DAY, step)
    x = 100 + 50 * np.sin(2 * np.pi * t / DAY)
    verdicts = [det.update(float(a), float(b)) for a, b in zip(t, x, strict=True)]
    assert all(v.score == 0.0 for v in verdicts[:24])  # nothing to compare with yet
    assert not any(v.anomalous for v in verdicts)
    spike = det.update(9 * DAY, 400.0)
    assert spike.anomalous and spike.expected == pytest.approx(100.0)


def test_season_by_time_survives_missing_samples() -> None:
    det = SeasonOverSeason(shifts=(DAY,), threshold=0.2)
    for h in range(24):
        if h != 5:
            det.update(h * 3600.0, 10.0)
    assert det.update(DAY + 5 * 3600.0, 50.0).score == 0.0  # no data a day before: no opinion
    assert det.update(DAY + 6 * 3600.0, 50.0).anomalous
    assert not det.update(WEEK, 10.0).anomalous


def test_gaussian_flags_four_sigma() -> None:
    rng = np.random.default_rng(0)
    det = Gaussian(window=500, warmup=100)
    for i, x in enumerate(rng.normal(0, 1, 500)):
        det.update(i, float(x))
    assert not det.update(500, 1.0).anomalous
    assert det.update(501, 6.0).anomalous
    assert det.epsilon == pytest.approx(default_epsilon(1))


def test_multi_gaussian_product_of_densities() -> None:
    rng = np.random.default_rng(1)
    det = MultiGaussian(3, window=400, names=["load", "mem", "zombies"])
    for i in range(400):
        det.update(i, rng.normal([1.0, 50.0, 0.5], [0.1, 5.0, 0.1]))
    assert not det.update(400, np.array([1.0, 50.0, 0.5])).anomalous
    v = det.update(401, np.array([1.0, 50.0, 1.5]))
    assert v.anomalous and "zombies" in v.reason
    # Three features each at 2.5 sigma: product density below one feature at 4 sigma.
    assert det.update(402, np.array([1.25, 62.5, 0.75])).anomalous


def test_sma_and_ema_smooth_without_judging() -> None:
    sma, ema = SimpleMovingAverage(window=3), ExponentialMovingAverage(span=3)
    out = [(sma.update(i, x), ema.update(i, x)) for i, x in enumerate([1.0, 2.0, 3.0, 4.0])]
    assert out[3][0].expected == pytest.approx(2.0)  # mean of 1, 2, 3
    # alpha = 0.5: 1 -> 1.5 -> 2.25
    assert out[3][1].expected == pytest.approx(2.25)
    assert not any(v.anomalous for pair in out for v in pair)


def test_sma_band_makes_it_a_detector() -> None:
    det = SimpleMovingAverage(window=20, band=3.0)
    for i in range(20):
        det.update(i, 10.0 + (i % 2))
    assert det.update(20, 30.0).anomalous


def test_ema_halflife_weighs_by_time() -> None:
    det = ExponentialMovingAverage(halflife=60.0)
    det.update(0.0, 0.0)
    det.update(60.0, 10.0)  # weight 1/2
    assert det.update(61.0, 0.0).expected == pytest.approx(5.0)


@pytest.mark.parametrize("name", detectors.names("streaming"))
def test_every_streaming_detector_ignores_missing_values(name: str) -> None:
    det = detectors.create(name)
    for i in range(50):
        det.update(i * 60.0, 1.0 + 0.01 * (i % 3))
    v = det.update(50 * 60.0, math.nan)
    assert v.score == 0.0 and not v.anomalous
    assert 0.0 <= det.update(51 * 60.0, 1.0).score <= 1.0
