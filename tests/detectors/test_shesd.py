"""Tests S-H-ESD against the R package's outputs and its parts against brute force."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from detectors.shesd import SHESD, _mad, _median, critical_values, shesd_indices


@pytest.mark.parametrize(
    ("name", "direction", "max_anoms"),
    [
        ("expected_shesd_extdata_both_period24_maxanoms0.02.csv", "both", 0.02),
        ("expected_shesd_extdata_pos_period24_maxanoms0.05.csv", "pos", 0.05),
    ],
)
def test_matches_r_on_extdata(
    twitter: Path, extdata: np.ndarray, name: str, direction: str, max_anoms: float
) -> None:
    expected = np.loadtxt(twitter / name, delimiter=",", skiprows=1)
    got = shesd_indices(extdata, period=24, max_anoms=max_anoms, direction=direction)
    assert got.tolist() == expected[:, 0].astype(int).tolist()
    np.testing.assert_allclose(extdata[got - 1], expected[:, 1], rtol=1e-12)


def test_detect_mask_marks_the_same_rows(extdata: np.ndarray) -> None:
    mask = SHESD(period=24, max_anoms=0.02, direction="both").detect(
        np.arange(len(extdata), dtype=float), extdata
    )
    assert (np.nonzero(mask)[0] + 1).tolist() == shesd_indices(extdata, 24, 0.02, "both").tolist()


def test_finds_planted_spikes_in_a_seasonal_series() -> None:
    rng = np.random.default_rng(3)
    n, period = 24 * 20, 24
    x = 10 + 3 * np.sin(2 * np.pi * np.arange(n) / period) + rng.normal(0, 0.2, n)
    x[[100, 250]] += 6
    x[400] -= 6
    assert shesd_indices(x, period, 0.02, "both").tolist() == [101, 251, 401]
    assert shesd_indices(x, period, 0.02, "pos").tolist() == [101, 251]
    assert shesd_indices(x, period, 0.02, "neg").tolist() == [401]


def test_constant_series_has_no_anomalies() -> None:
    assert shesd_indices(np.ones(100), 10).tolist() == []


def test_median_and_mad_of_sorted_slices_match_brute_force() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        a = np.sort(rng.integers(0, 6, rng.integers(1, 12)).astype(float) + rng.random() / 3)
        lo = int(rng.integers(0, len(a)))
        hi = int(rng.integers(lo + 1, len(a) + 1))
        part = a[lo:hi]
        m = _median(a, lo, hi)
        assert m == np.median(part)
        assert _mad(a, lo, hi, m) == pytest.approx(1.4826 * np.median(np.abs(part - m)))


def test_critical_values_match_rosner_formula() -> None:
    # n = 4, i = 1: df = n - i - 1 = 2, where t has a closed form:
    # two-sided p = 1 - 0.05 / (2 * 4) = 0.99375, t = (2p - 1) / sqrt(2 p (1 - p)) = 8.860...
    # lambda_1 = t (n - 1) / sqrt((n - 2 + t^2) n).
    p = 1 - 0.05 / 8
    t = (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    lam = critical_values(4, 1, 0.05, one_tail=False)
    assert lam[0] == pytest.approx(t * 3 / math.sqrt((2 + t * t) * 4), rel=1e-10)
    # One-sided: p = 1 - 0.05 / 4.
    p = 1 - 0.05 / 4
    t = (2 * p - 1) / math.sqrt(2 * p * (1 - p))
    lam = critical_values(4, 1, 0.05, one_tail=True)
    assert lam[0] == pytest.approx(t * 3 / math.sqrt((2 + t * t) * 4), rel=1e-10)
