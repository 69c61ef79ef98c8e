"""Provides ``assert_same``: two verdicts agree (what a bank of detectors and one detector per
series, or a judged engine and a bare detector, must give alike)."""

from __future__ import annotations

import pytest

from detectors.base import Verdict


def assert_same(got: Verdict, want: Verdict, where: object) -> None:
    """Assert that ``got`` says what ``want`` says: run, severity, reason, score and band."""
    assert (got.anomalous, got.severity, got.reason) == (
        want.anomalous,
        want.severity,
        want.reason,
    ), where
    assert got.score == pytest.approx(want.score, abs=1e-12), where
    if want.expected is None:
        assert got.expected is None, where
    else:
        got_band = (got.expected, got.low, got.high)
        assert got_band == pytest.approx((want.expected, want.low, want.high), nan_ok=True), where
