"""Tests detectors on input nobody should send but somebody will: values at the ends of the
float range, repeated timestamps, options of NaN, infinity or absurd size."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import detectors
from detectors.base import Verdict
from detectors.holtwinters import HoltWinters
from detectors.run import OPTIONS, check_options, score_series
from detectors.season import SeasonOverSeason


def test_a_verdict_score_is_always_in_0_1() -> None:
    assert Verdict(math.nan, True).score == 1.0
    assert Verdict(math.nan, False).score == 0.0
    assert Verdict(7.0, True).score == 1.0 and Verdict(-0.5, False).score == 0.0
    assert Verdict(math.inf, True).score == 1.0 and Verdict(0.25, False).score == 0.25


def test_robust_z_judges_values_near_the_float_limits_with_finite_scores() -> None:
    x = np.where(np.arange(200) % 7 == 0, 1e308, -1e308)
    x[150] = 1.7e308  # beyond both clusters
    scores = score_series("robust_z", np.arange(200.0), x)
    assert np.all(np.isfinite(scores)) and np.all((scores >= 0) & (scores <= 1))
    det = detectors.create("robust_z")
    for i in range(40):
        det.update(float(i), -1e308 + i * 1e306)
    v = det.update(40.0, 1.7e308)
    assert v.anomalous and 0.5 < v.score <= 1 and math.isfinite(v.expected or 0)


def test_holtwinters_learns_its_step_past_repeated_timestamps() -> None:
    det = HoltWinters()
    for x in (1.0, 2.0, 3.0):  # three rows at the same second, as an export may hold
        assert det.update(1000.0, x) == detectors.QUIET
    for i in range(1, 50):
        v = det.update(1000.0 + 60.0 * i, 5.0 + (i % 3))
    assert det.step == 60.0 and len(det._seasonal) == 1440
    assert 0.0 <= v.score <= 1.0
    scores = score_series("holtwinters", np.zeros(30), np.arange(30.0))  # all one timestamp
    assert np.all(scores == 0.0)


def test_a_season_too_long_for_its_step_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="at most 1,000,000"):
        HoltWinters(season=86400.0, step=0.001)
    with pytest.raises(ValueError, match="at most 1,000,000"):
        score_series("holtwinters", np.array([0.0, 1e-6, 2e-6]), np.ones(3))


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("season", {"shifts": (math.inf,)}, "shifts: must be between 1 and 31,622,400 seconds"),
        ("season", {"shifts": (86400.0, math.nan)}, "got nan"),
        ("holtwinters", {"season": -1.0}, "season: must be between 0 and"),
        ("robust_z", {"window": 10**12}, "window: must be between 3 and 100,000 points"),
        ("auto", {"threshold": math.nan}, "threshold: must be between 0.01 and 1, got nan"),
        ("limits", {"high": math.inf}, "high: must be between"),
        ("edm", {"degree": 7}, "degree: must be between 0 and 2"),
        ("cv", {"tolerance": 0.0}, "tolerance: must be between"),
        ("robust_z", {"colour": 3}, "has no option 'colour'"),
    ],
)
def test_options_out_of_range_are_refused_in_one_line(
    name: str, options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")) as exc:
        check_options(name, options)
    assert "\n" not in str(exc.value)
    with pytest.raises(ValueError):
        score_series(name, np.arange(5.0), np.ones(5), **options)


def test_season_refuses_memory_it_cannot_have() -> None:
    with pytest.raises(ValueError, match="raise resolution"):
        SeasonOverSeason(shifts=(31_000_000.0,), resolution=1.0)
    with pytest.raises(ValueError, match="finite"):
        SeasonOverSeason(shifts=(math.inf,))


def test_every_numeric_option_carries_a_range() -> None:
    for name, options in OPTIONS.items():
        for opt in options:
            if opt.type in (int, float, tuple):
                assert opt.low is not None and opt.high is not None, f"{name}.{opt.name}"
                assert opt.check(opt.default) is None, f"{name}.{opt.name} default"


_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e308, -1e308, 1.7976931348623157e308, 5e-324, 0.0, -0.0]),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(detectors.names("streaming")),
    values=st.lists(_values, min_size=1, max_size=120),
    steps=st.lists(st.sampled_from([0.0, 0.0, 1.0, 60.0, -3600.0, 1e-7]), min_size=1),
)
def test_streaming_scores_stay_finite_whatever_the_input(
    name: str, values: list[float], steps: list[float]
) -> None:
    t = 1.4e9 + np.cumsum([steps[i % len(steps)] for i in range(len(values))])
    try:
        scores = score_series(name, t, np.array(values))
    except ValueError as exc:  # a refusal must be one clear line, never a crash
        assert "\n" not in str(exc)
        return
    assert np.all(np.isfinite(scores)) and np.all((scores >= 0) & (scores <= 1))


@pytest.mark.parametrize("name", detectors.names("streaming"))
def test_values_at_the_float_limits_never_raise(name: str) -> None:
    x = np.where(np.arange(300) % 2 == 0, 1e308, -1e308)  # a mean of 0, a variance of inf
    scores = score_series(name, 1.4e9 + 60.0 * np.arange(300), x)
    assert np.all(np.isfinite(scores)) and np.all((scores >= 0) & (scores <= 1))
