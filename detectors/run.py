"""Provides what the command line calls to run a detector over a whole series:
``score_series``, and ``OPTIONS``, the description of every detector's options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from detectors.base import FloatArray, create, info
from detectors.options import OPTIONS, Option, check_options

__all__ = ["OPTIONS", "Option", "check_options", "score_series"]


def score_series(
    name: str,
    t: FloatArray,
    x: FloatArray,
    progress: Callable[[float], object] | None = None,
    **options: Any,
) -> FloatArray:
    """Anomaly scores in [0, 1] for every row of a series.

    Streaming detectors run causally, one row at a time, so the score of row i depends on rows
    up to i only; batch detectors score 1.0 on the anomalies they find and 0.0 elsewhere.

    Args:
        name: a registered detector name (``detectors.names()``).
        t: times of the rows, epoch seconds, ascending.
        x: values of the rows (NaN for missing).
        progress: told the share of the work done, in [0, 1], now and then.
        **options: the detector's options (see ``OPTIONS[name]``).

    Returns:
        One score per row.

    Raises:
        ValueError: an option is unknown or out of its range (see ``check_options``).
    """
    t = np.asarray(t, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if t.shape != x.shape:
        raise ValueError("t and x must have the same length")
    check_options(name, options)
    det = create(name, **options)
    # Values near the ends of the float range overflow inside the detectors' sums; what comes
    # out is kept finite (a Verdict's score is always in [0, 1]), so the warnings are noise.
    with np.errstate(all="ignore"):
        if info(name).kind == "batch":
            return det.detect(t, x, progress=progress).astype(np.float64)  # type: ignore[no-any-return]
        out = np.zeros(len(x))
        update = det.update
        for i, (ti, xi) in enumerate(zip(t.tolist(), x.tolist(), strict=True)):
            out[i] = update(ti, xi).score
            if progress is not None and i % 4096 == 4095:
                progress(i / len(x))
    return out
