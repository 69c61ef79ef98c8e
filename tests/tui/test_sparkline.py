"""Tests sparklines drawn as text: levels, blanks for what is not a number, fixed scales."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tui.widgets.sparkline import sparkline

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    ("values", "width", "scale", "drawn"),
    [
        ([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], 8, (None, None), "▁▂▃▄▅▆▇█"),
        ([1.0, NAN, 3.0, INF, 2.0], 6, (None, None), " ▁ █ ▅"),
        ([20.0, 50.0, 100.0, 120.0, -5.0], 5, (0.0, 100.0), "▂▅██▁"),
        ([5.0, 5.0, 5.0, 5.0], 6, (None, None), "  ▄▄▄▄"),
        ([0.0, 0.0, 0.0], 3, (None, None), "▁▁▁"),
        ([NAN, NAN], 4, (None, None), "    "),
        ([], 3, (None, None), "   "),
        ([1.0, 2.0, 3.0], 2, (None, None), "▁█"),
        ([1.0, 2.0], 0, (None, None), ""),
    ],
)
def test_sparklines(
    values: list[float], width: int, scale: tuple[float | None, float | None], drawn: str
) -> None:
    assert sparkline(values, width, *scale) == drawn
    assert sparkline(np.array(values, dtype=np.float64), width, *scale) == drawn
