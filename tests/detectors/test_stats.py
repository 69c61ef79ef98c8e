"""Tests the special functions against closed forms and published values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors.stats import betainc, r_median, t_isf, t_sf


def test_t_quantile_closed_forms() -> None:
    # df = 1 is Cauchy: t = cot(pi q); df = 2: t = (1 - 2q) / sqrt(2 q (1 - q)).
    q = np.array([0.025, 1e-4, 1e-9])
    np.testing.assert_allclose(t_isf(q, 1.0), 1 / np.tan(np.pi * q), rtol=1e-10)
    np.testing.assert_allclose(t_isf(q, 2.0), (1 - 2 * q) / np.sqrt(2 * (1 - q) * q), rtol=1e-10)


def test_t_quantile_published_values() -> None:
    # R: qt(0.975, 10), qt(0.995, 30), qt(0.9, 5).
    got = t_isf(np.array([0.025, 0.005, 0.1]), np.array([10.0, 30.0, 5.0]))
    np.testing.assert_allclose(
        got, [2.228138851986274, 2.749995653567230, 1.475884048824481], rtol=1e-12
    )


def test_t_quantile_large_df_tends_to_normal() -> None:
    # The normal's 1 - 1e-5 quantile is 4.264890793922825.
    assert t_isf(1e-5, 1e9) == pytest.approx(4.264890793922825, rel=1e-7)


def test_t_tail_inverts_quantile() -> None:
    q = np.geomspace(1e-12, 0.5, 25)
    for df in (1.0, 3.0, 17.0, 764.0, 14000.0):
        np.testing.assert_allclose(t_sf(t_isf(q, df), df), q, rtol=1e-10)


def test_betainc_known_values() -> None:
    # I_x(1, 1) = x; I_x(a, 1) = x^a; I_x(1, b) = 1 - (1-x)^b; I_0.5(a, a) = 0.5.
    x = np.linspace(0.01, 0.99, 7)
    np.testing.assert_allclose(betainc(1.0, 1.0, x), x, rtol=1e-13)
    np.testing.assert_allclose(betainc(3.5, 1.0, x), x**3.5, rtol=1e-12)
    np.testing.assert_allclose(betainc(1.0, 4.0, x), 1 - (1 - x) ** 4, rtol=1e-12)
    assert betainc(7.3, 7.3, 0.5) == pytest.approx(0.5, rel=1e-13)
    assert math.isclose(float(betainc(2.0, 3.0, 0.0)), 0.0)


def test_r_median() -> None:
    assert r_median(np.array([3.0, 1.0, 2.0])) == 2.0
    assert r_median(np.array([4.0, 1.0, 2.0, 3.0])) == 2.5
