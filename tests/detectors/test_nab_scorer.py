"""Tests the NAB scorer on small hand-made cases worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors.nab import file_score, label_file, probation_length, scaled_sigmoid, sweep


def ss(p: float) -> float:
    """NAB's scaled sigmoid, written out independently of the module."""
    return -1.0 if p > 3 else 2 / (1 + math.exp(5 * p)) - 1


def test_probation_and_sigmoid() -> None:
    assert probation_length(20) == 3  # floor(0.15 * 20)
    assert probation_length(100_000) == 750  # capped at 0.15 * 5000
    assert float(scaled_sigmoid(-1.0)) == pytest.approx(ss(-1.0))
    assert float(scaled_sigmoid(3.5)) == -1.0


def _case() -> tuple[np.ndarray, object]:
    # 20 rows, probation rows 0..2, one window on rows 10..13 (width w = 4).
    labels = label_file(20, [(10, 13)])
    scores = np.zeros(20)
    scores[2] = 0.9  # in probation: never counts
    scores[5] = 0.6  # before any window: costs A_FP
    scores[12] = 0.8  # in the window, 2 rows before its end
    scores[15] = 0.7  # after the window, 2 rows past its right edge
    return scores, labels


def test_hand_worked_threshold_sweep() -> None:
    scores, labels = _case()
    # Row 12 in window [10, 13]: position -(13 - 12 + 1) / 4 = -0.5, worth ss(-0.5) / ss(-1)
    # = 0.84828 / 0.98661 = 0.85979 (A_TP = 1).
    tp = ss(-0.5) / ss(-1.0)
    # Row 15 after the window: position |13 - 15| / (4 - 1) = 2/3, worth ss(2/3) * 0.11
    # = -0.93108 * 0.11 = -0.10242.
    fp_after = ss(2 / 3) * 0.11
    # Thresholds: above 0.8 nothing is detected: -1 (the window is missed, A_FN = 1).
    # At 0.8: row 12 only, 0.85979. At 0.7: plus row 15, 0.75737. At 0.6: plus row 5
    # (before any window, -0.11), 0.64737. At 0: every scorable row, which takes row 10 (worth
    # 1) but 7 rows before the window (-0.77) and 6 after it: well below.
    assert file_score(scores, labels, 0.8, "standard") == pytest.approx(tp)
    assert file_score(scores, labels, 0.7, "standard") == pytest.approx(tp + fp_after)
    assert file_score(scores, labels, 0.6, "standard") == pytest.approx(tp + fp_after - 0.11)
    best = sweep([(scores, labels)], "standard")
    assert best.threshold == 0.8
    assert best.raw == pytest.approx(tp)
    # Normalised: 100 (S - S_null) / (S_perfect - S_null) = 100 (0.85979 + 1) / 2 = 92.99.
    assert best.normalized == pytest.approx(100 * (tp + 1) / 2)


def test_profiles_change_the_weights() -> None:
    scores, labels = _case()
    # reward_low_FN_rate: A_FN = 2, so S_null = -2 and the miss costs 2.
    assert file_score(scores, labels, 0.9, "reward_low_FN_rate") == pytest.approx(-2.0)
    best = sweep([(scores, labels)], "reward_low_FN_rate")
    assert best.normalized == pytest.approx(100 * (ss(-0.5) / ss(-1.0) + 2) / 3)
    # reward_low_FP_rate: A_FP = 0.22 doubles the cost of row 15.
    got = file_score(scores, labels, 0.7, "reward_low_FP_rate")
    assert got == pytest.approx(ss(-0.5) / ss(-1.0) + ss(2 / 3) * 0.22)


def test_only_the_earliest_detection_of_a_window_counts() -> None:
    labels = label_file(20, [(10, 13)])
    scores = np.zeros(20)
    scores[[10, 11, 12, 13]] = 1.0
    # Row 10 is the window's first row: position -4/4 = -1, worth exactly 1.
    assert file_score(scores, labels, 1.0, "standard") == pytest.approx(1.0)


def test_threshold_is_shared_across_files() -> None:
    # File A wants a threshold of 0.5 (its window row scores 0.5, noise 0.4 elsewhere);
    # file B has no window and one false positive at 0.45. One threshold for both: at 0.5,
    # A gets 1 (row 10 = window start) and B nothing: total 1. At 0.45, B costs 0.11.
    la, lb = label_file(20, [(10, 13)]), label_file(20, [])
    a, b = np.full(20, 0.4), np.zeros(20)
    a[10], b[8] = 0.5, 0.45
    best = sweep([(a, la), (b, lb)], "standard")
    assert best.threshold == 0.5 and best.raw == pytest.approx(1.0)
    assert best.windows == 1


def test_window_in_probation_is_not_counted() -> None:
    labels = label_file(100, [(2, 5), (50, 60)])  # probation: rows 0..14
    best = sweep([(np.zeros(100), labels)], "standard")
    assert best.windows == 1 and best.normalized == pytest.approx(0.0)
