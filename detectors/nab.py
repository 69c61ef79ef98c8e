"""Provides a scorer for the Numenta Anomaly Benchmark (NAB v1.1 rules), on arrays.

Per file: rows before ``min(floor(0.15 n), 750)`` are a probation period and never count. A
detection (score >= threshold) inside a labelled window [l, r] of width w is worth
``ss(-(r - i + 1) / w) * A_TP / ss(-1)``, and only the best (earliest) one of a window counts; a
window without one costs ``A_FN``. A detection outside every window costs
``ss(|r' - i| / (w' - 1)) * A_FP`` after a window (r', w'), ``A_FP`` before any, with
``ss(p) = 2 / (1 + exp(5 p)) - 1`` (and -1 beyond p = 3). One threshold serves the whole corpus:
every distinct score is tried, and the best total wins. The normalised score is
``100 (S - S_null) / (S_perfect - S_null)`` with ``S_perfect = A_TP * windows`` and
``S_null = -A_FN * windows``. Reading files is the caller's business.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detectors.base import FloatArray

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Profile:
    """Weights of one NAB application profile."""

    name: str
    a_tp: float
    """Reward of a window found at its very start."""
    a_fp: float
    """Cost of a false positive far from any window."""
    a_fn: float
    """Cost of a window missed."""


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        Profile("standard", 1.0, 0.11, 1.0),
        Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
        Profile("reward_low_FN_rate", 1.0, 0.11, 2.0),
    )
}


def scaled_sigmoid(p: FloatArray | float) -> FloatArray:
    """NAB's ``ss(p)``: 2 / (1 + exp(5 p)) - 1, and -1 for p > 3."""
    p_ = np.asarray(p, dtype=np.float64)
    val = 2.0 / (1.0 + np.exp(np.minimum(5.0 * p_, 700.0))) - 1.0
    return np.where(p_ > 3.0, -1.0, val)  # type: ignore[no-any-return]


def probation_length(n: int) -> int:
    """Rows at the start of a file that never count: min(floor(0.15 n), 750)."""
    return int(min(math.floor(0.15 * n), 0.15 * 5000))


@dataclass(frozen=True, slots=True)
class FileLabels:
    """What the scorer needs to know about one file, independent of any detector."""

    n: int
    """Rows in the file."""
    windows: tuple[tuple[int, int], ...]
    """Labelled windows as inclusive row ranges, in order."""
    window_of: IntArray
    """Per row: the index of its window, or -1 outside every window."""
    tp_value: FloatArray
    """Per row: its unweighted worth inside a window (1 at the window's start)."""
    fp_value: FloatArray
    """Per row: its unweighted (negative) worth as a false positive outside windows."""
    scorable: npt.NDArray[np.bool_]
    """Per row: after the probation period."""


def label_file(n: int, windows: Sequence[tuple[int, int]]) -> FileLabels:
    """Precompute the per-row worths of a file of ``n`` rows with these windows (inclusive
    row ranges, sorted, not overlapping)."""
    window_of = np.full(n, -1, dtype=np.int64)
    tp = np.zeros(n)
    fp = np.full(n, -1.0)
    rows = np.arange(n)
    max_tp = float(scaled_sigmoid(-1.0))
    for k, (lo, hi) in enumerate(windows):
        width = hi - lo + 1
        inside = rows[lo : hi + 1]
        window_of[lo : hi + 1] = k
        tp[lo : hi + 1] = scaled_sigmoid(-(hi - inside + 1) / width) / max_tp
        end = windows[k + 1][0] if k + 1 < len(windows) else n
        after = rows[hi + 1 : end]
        denom = max(width - 1, 1)
        fp[hi + 1 : end] = scaled_sigmoid(np.abs(hi - after) / denom)
    scorable = rows >= probation_length(n)
    return FileLabels(n, tuple(windows), window_of, tp, fp, scorable)


def _counted_windows(labels: FileLabels) -> int:
    """Windows with at least one scorable row (a window wholly in probation is ignored)."""
    return len({int(k) for k in labels.window_of[labels.scorable] if k >= 0})


@dataclass(frozen=True, slots=True)
class CorpusScore:
    """Outcome of a threshold sweep over a corpus, for one profile."""

    profile: str
    threshold: float
    raw: float
    """Total score S at the best threshold."""
    normalized: float
    """100 (S - S_null) / (S_perfect - S_null)."""
    windows: int


def _gather(
    files: Sequence[tuple[FloatArray, FileLabels]], prof: Profile
) -> tuple[FloatArray, FloatArray, IntArray, int]:
    """Scorable rows of every file: (score, worth, global window id or -1, windows)."""
    scores, worth, wid, offset, count = [], [], [], 0, 0
    for sc, lab in files:
        keep = lab.scorable
        s = np.nan_to_num(np.asarray(sc, dtype=np.float64)[keep], nan=0.0)
        w = lab.window_of[keep]
        inside = w >= 0
        scores.append(s)
        worth.append(
            np.where(inside, lab.tp_value[keep] * prof.a_tp, lab.fp_value[keep] * prof.a_fp)
        )
        wid.append(np.where(inside, w + offset, -1))
        offset += len(lab.windows)
        count += _counted_windows(lab)
    return np.concatenate(scores), np.concatenate(worth), np.concatenate(wid), count


def _window_deltas(worth: FloatArray, wid: IntArray, a_fn: float) -> FloatArray:
    """Per row in detection order: how much the total rises when it is detected (window
    rows only; 0 elsewhere)."""
    out = np.zeros(len(worth))
    rows = np.nonzero(wid >= 0)[0]
    if len(rows) == 0:
        return out
    by = rows[np.lexsort((rows, wid[rows]))]
    g = wid[by]
    big = 4.0 * (abs(a_fn) + float(np.max(np.abs(worth[by]))) + 1.0)
    run = np.maximum.accumulate(worth[by] + g * big) - g * big
    prev = np.empty_like(run)
    prev[1:] = run[:-1]
    first = np.ones(len(g), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    prev[first] = -a_fn
    out[by] = run - prev
    return out


def sweep(files: Sequence[tuple[FloatArray, FileLabels]], profile: str = "standard") -> CorpusScore:
    """Find the threshold that maximises the corpus total for ``profile``.

    Args:
        files: per file, its anomaly scores (one per row) and its labels.
        profile: a key of ``PROFILES``.

    Returns:
        The best threshold, its raw total and the normalised score.
    """
    prof = PROFILES[profile]
    scores, worth, wid, windows = _gather(files, prof)
    order = np.argsort(-scores, kind="stable")
    s, v, g = scores[order], worth[order], wid[order]
    delta = np.where(g >= 0, 0.0, v) + _window_deltas(v, g, prof.a_fn)
    base = -prof.a_fn * windows
    totals = base + np.cumsum(delta)
    ends = np.nonzero(np.append(s[1:] != s[:-1], True))[0] if len(s) else np.zeros(0, int)
    best_raw, best_thr = base, math.inf
    if len(ends):
        k = int(np.argmax(totals[ends]))
        if totals[ends[k]] > best_raw:
            best_raw, best_thr = float(totals[ends[k]]), float(s[ends[k]])
    perfect, null = prof.a_tp * windows, -prof.a_fn * windows
    norm = 100.0 * (best_raw - null) / (perfect - null) if windows else 0.0
    return CorpusScore(profile, best_thr, best_raw, norm, windows)


def file_score(scores: FloatArray, labels: FileLabels, threshold: float, profile: str) -> float:
    """The raw NAB total of one file at a given threshold."""
    prof = PROFILES[profile]
    det = labels.scorable & (np.nan_to_num(np.asarray(scores, np.float64)) >= threshold)
    outside = det & (labels.window_of < 0)
    total = float(np.sum(labels.fp_value[outside])) * prof.a_fp
    counted = {int(k) for k in labels.window_of[labels.scorable] if k >= 0}
    for k in counted:
        hit = det & (labels.window_of == k)
        total += float(np.max(labels.tp_value[hit])) * prof.a_tp if hit.any() else -prof.a_fn
    return total
