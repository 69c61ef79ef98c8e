"""Tests the default detector and its vectorised bank."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.auto import Auto, rest_scores
from detectors.auto_bank import AutoBank, bytes_per_series
from detectors.run import score_series


def _run(x: np.ndarray, **options: int | float) -> list:  # type: ignore[type-arg]
    det = Auto(**options)  # type: ignore[arg-type]
    return [det.update(float(i), float(xi)) for i, xi in enumerate(x)]


def test_a_spike_scores_high_once_and_reads_as_words() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(10, 1, 3000)
    x[2500:2505] = 40.0
    v = _run(x)
    high = [i for i, vi in enumerate(v) if vi.score >= 0.3]
    assert high == [2500]
    assert v[2500].anomalous and v[2500].expected == pytest.approx(10, abs=1.0)
    assert "x its usual change, rarer than 1 in" in v[2500].reason
    assert max(vi.score for vi in v[2501:2505]) < v[2500].score  # the same episode rests


def test_a_level_shift_is_caught_at_its_first_point() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(100, 2, 4000)
    x[3000:] += 30
    v = _run(x)
    assert v[3000].score >= 0.3
    assert [i for i, vi in enumerate(v) if vi.score >= 0.3 and i < 3000] == []


def test_a_lasting_shift_is_one_anomalous_run() -> None:
    """Alert rules fire once per run of anomalous verdicts and may wait for a run to last: a
    level that moves and stays is one incident, anomalous for a while (until the slow level
    has followed it), and one strike of the gong."""
    rng = np.random.default_rng(8)
    x = rng.normal(50, 2, 4000)
    x[3000:] += 40.0
    v = _run(x)
    runs = [i for i in range(1, len(v)) if v[i].anomalous and not v[i - 1].anomalous]
    assert [r for r in runs if r > 2900] == [3000]
    assert len(runs) <= 2  # noise may set a new extreme before the shift, rarely
    assert all(vi.anomalous for vi in v[3000:3030])
    assert v[3000].score >= 0.3 and max(vi.score for vi in v[3001:]) < 0.3
    assert v[3010].reason == v[3000].reason + " (ongoing)"
    assert not any(vi.anomalous for vi in v[3300:])


def test_a_worse_point_speaks_again_within_an_episode() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(10, 1, 2000)
    x[1500], x[1502] = 20.0, 200.0
    v = _run(x)
    assert v[1500].score > 0 and v[1502].score > v[1500].score


@pytest.mark.parametrize(
    "make",
    [
        lambda rng, n: np.full(n, 5.0),  # flat
        lambda rng, n: np.zeros(n),  # flat at zero
        lambda rng, n: 300 + np.round(rng.normal(0, 0.4, n)),  # a few hundred B/s, quantised
        lambda rng, n: 300 + 1e-9 * rng.normal(0, 1, n),  # floating point noise on a flat rate
        lambda rng, n: np.where(rng.random(n) < 0.02, 60.0, 0.0) + 240,  # rare tiny bumps
    ],
)
def test_flat_and_nearly_flat_series_stay_ordinary(make) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    v = _run(make(rng, 3000))
    assert max(vi.score for vi in v) < 0.3
    assert not any(vi.anomalous for vi in v)


def test_a_flat_series_that_moves_a_lot_is_news() -> None:
    x = np.full(2000, 300.0)
    x[1500] = 600.0
    v = _run(x)
    assert v[1500].score >= 0.3 and v[1500].anomalous


def test_calibration_one_threshold_means_the_same_on_every_series() -> None:
    """Long stationary noise of very different scales and shapes: the fraction of points at or
    above the default threshold is small on each, under a quarter of the tail the threshold
    stands for (1 in 316 at 0.25), and none at all on normal noise."""
    rng = np.random.default_rng(4)
    n = 40000
    e = rng.normal(0, 1, n)
    ar = np.zeros(n)
    for i in range(1, n):
        ar[i] = 0.9 * ar[i - 1] + e[i]
    series = {
        "normal": rng.normal(1000, 5, n),
        "laplace, tiny": rng.laplace(0, 0.01, n),
        "exponential, huge": rng.exponential(3e6, n),
        "poisson counts": rng.poisson(3, n).astype(float),
        "uniform": rng.uniform(-1e-3, 1e-3, n),
        "ar(1)": ar + 50,
    }
    for name, x in series.items():
        t = np.arange(n, dtype=float)
        scores = score_series("auto", t, x)[1000:]
        thr = Auto().params.threshold
        assert np.mean(scores >= thr) <= 10 ** (-thr * 10) / 4, name
        if name == "normal":
            assert not np.any(scores >= thr)
        # ... and no series is left silent by a scale of its own: before the one-strike rule,
        # on each, several in a thousand points reach 0.1 (a tail of 1 in 20 under the fitted
        # heavy tail, with the factor 2 of taking the more surprising of two signals).
        undamped = score_series("auto", t, x, rest=1)[1000:]
        assert 0.005 <= np.mean(undamped >= 0.1) <= 0.2, name


def test_rest_scores_is_the_detectors_own_rule() -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_t(3, 3000)
    x[2000:2100:10] = 1e6  # spikes beyond the score's cap must rest too
    t = np.arange(len(x), dtype=float)
    det, decades = Auto(), np.zeros(len(x))
    for i in range(len(x)):
        det.decades = 0.0
        det.update(t[i], float(x[i]))
        decades[i] = det.decades
    for rest in (7, 1000):
        np.testing.assert_array_equal(
            rest_scores(decades, rest), score_series("auto", t, x, rest=rest)
        )


def _daily(days: int, step: float = 300.0, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A square daily pattern: 20 most of the day, 80 for four hours, a little noise."""
    rng = np.random.default_rng(seed)
    t = 1.4e9 + np.arange(int(days * 86400 / step)) * step
    hour = (t % 86400) / 3600
    return t, np.where((hour >= 10) & (hour < 14), 80.0, 20.0) + rng.normal(0, 1, len(t))


def test_a_missing_daily_high_is_found_by_the_season() -> None:
    t, x = _daily(10)
    hour = (t % 86400) / 3600
    high = (hour >= 10) & (hour < 14)
    day9 = (t >= t[0] + 8 * 86400) & (t < t[0] + 9 * 86400)
    x[day9 & high] = 20.0  # the high never comes; 20 is an ordinary level
    det = Auto()
    v = [det.update(float(a), float(b)) for a, b in zip(t, x, strict=True)]
    learned = t >= t[0] + 3 * 86400
    hits = [i for i, vi in enumerate(v) if vi.score >= 0.3 and learned[i]]
    starts = [i for i in range(1, len(t)) if high[i] and not high[i - 1]]
    missed, back = (i for i in starts if i > np.argmax(day9))
    # The missing high at its first point, and its echo: the next day's high, which a day-ago
    # guess does not expect; no daily rise or fall of an ordinary day.
    assert hits == [missed, back]
    # Without timestamps a day apart (the same values a second apart) there is no season,
    # and many ordinary daily rises and falls are news.
    plain = Auto()
    w = [plain.update(float(i), float(b)) for i, b in enumerate(x)]
    assert missed not in [i for i, wi in enumerate(w) if wi.score >= 0.3]
    assert sum(wi.score >= 0.3 for wi in w) > 5


SUNDAY = 1599955200.0
"""2020-09-13, 00:00 UTC."""


def _weekly(weeks: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Hourly points of a working week: a high from 9 to 17 on weekdays, quiet weekends."""
    rng = np.random.default_rng(seed)
    t = SUNDAY + 3600.0 * np.arange(weeks * 7 * 24)
    hour, day = (t % 86400) / 3600, ((t - SUNDAY) // 86400) % 7
    work = (day >= 1) & (day <= 5) & (hour >= 9) & (hour < 17)
    return t, np.where(work, 80.0, 20.0) + rng.normal(0, 1, len(t))


def test_a_holiday_is_found_by_the_week_and_a_weekend_is_not() -> None:
    """A day guess expects Saturday's high and a Monday's quiet morning; the week expects
    neither. A weekday that stays quiet (a holiday) is what the week does not expect."""
    t, x = _weekly(6)
    day = ((t - SUNDAY) // 86400).astype(int)
    hour = (t % 86400) / 3600
    holiday = day == 7 * 4 + 3  # the fifth Wednesday
    x[holiday & (hour >= 9) & (hour < 17)] = 20.0
    det = Auto()
    hits = [i for i, (a, b) in enumerate(zip(t, x, strict=True)) if det.update(a, b).score >= 0.3]
    first = int(np.argmax(holiday & (hour >= 9)))
    late = [i for i in hits if day[i] >= 21]  # once the week has been seen twice
    assert first in late
    # Nothing else once the week is known: the holiday, and its echo a week later (which a
    # week-ago guess expects to be quiet), but no weekend and no Monday morning.
    assert {int(day[i]) for i in late} == {7 * 4 + 3, 7 * 5 + 3}


def test_bank_matches_single_detectors_on_a_weekly_series() -> None:
    t, base = _weekly(4)
    rng = np.random.default_rng(8)
    data = base[:, None] * rng.uniform(0.5, 2, 3) + rng.normal(0, 0.5, (len(t), 3))
    data[500, 0] -= 60
    assert_bank_matches_singles(data, t)


def assert_bank_matches_singles(
    data: np.ndarray, t: np.ndarray | None = None, **options: int
) -> None:
    """Feed the rows of ``data`` to a bank and to one ``Auto`` per column; compare every verdict."""
    k = data.shape[1]
    t = np.arange(len(data), dtype=float) if t is None else t
    bank = AutoBank(k, **options)  # type: ignore[arg-type]
    singles = [Auto(**options) for _ in range(k)]  # type: ignore[arg-type]
    for i, row in enumerate(data):
        score, anomalous, expected, low, high = bank.update(float(t[i]), row)
        for j, det in enumerate(singles):
            v = det.update(float(t[i]), float(row[j]))
            assert score[j] == pytest.approx(v.score, abs=1e-12)
            assert anomalous[j] == v.anomalous
            if v.expected is None:
                assert np.isnan(expected[j])
            else:
                assert expected[j] == pytest.approx(v.expected, nan_ok=True)
                assert (low[j], high[j]) == pytest.approx((v.low, v.high), nan_ok=True)


@pytest.mark.parametrize("options", [{}, {"average": 3, "rest": 20, "warmup": 10, "memory": 300}])
def test_bank_matches_single_detectors(options: dict[str, int]) -> None:
    rng = np.random.default_rng(6)
    data = rng.normal(0, 1, (1500, 10)) * rng.uniform(0.5, 5, 10) + rng.uniform(-3, 3, 10)
    data[1250, 4] += 25
    data[100:130, 7] = np.nan
    data[::17, 2] = np.nan
    data[:, 5] = 7.0
    data[1000:, 5] = 9.0
    data[:, 6] = np.round(data[:, 6])
    data[:, 8] = np.where(rng.random(len(data)) < 0.05, 50.0, 0.0)
    data[:, 9] += np.linspace(0.0, 40.0, len(data))  # a climb that keeps setting new extremes
    assert_bank_matches_singles(data, **options)


def test_bank_matches_single_detectors_on_seasonal_gappy_series() -> None:
    t, base = _daily(4, step=600.0)
    rng = np.random.default_rng(7)
    k = 6
    data = base[:, None] * rng.uniform(0.5, 2, k) + rng.normal(0, 0.5, (len(t), k))
    data[400, 1] += 200
    data[5:60, 2] = np.nan  # its step is learned late
    data[::7, 3] = np.nan
    data[:, 4] = 7.0
    data[:, 5] = rng.normal(0, 1, len(t))  # no season to find
    assert_bank_matches_singles(data, t)


@pytest.mark.filterwarnings("error")
def test_bank_matches_single_detectors_at_the_float_limits() -> None:
    rng = np.random.default_rng(9)
    data = rng.normal(0, 1, (300, 3))
    data[:, 0] = np.where(np.arange(300) % 2 == 0, 1e308, -1e308)  # a variance of inf
    data[250, 1] = 1.7e308
    data[::3, 2] = -1e308
    assert_bank_matches_singles(data)


def test_bank_refuses_the_wrong_shape() -> None:
    with pytest.raises(ValueError):
        AutoBank(3).update(0.0, np.zeros(4))


def _held(bank: AutoBank) -> int:
    arrays = [*bank.f.values(), *bank.i.values(), bank.quantum, bank.ring, bank.on]
    arrays += bank.seasons.arrays()
    return sum(a.nbytes for a in arrays)


def test_bytes_per_series_counts_the_banks_arrays() -> None:
    bank = AutoBank(1000, average=3)
    for i in range(30):  # one-second steps: no daily ring
        bank.update(float(i), np.ones(1000))
    assert _held(bank) == 1000 * bytes_per_series(3)
    bank = AutoBank(1000)
    for i in range(30):  # five-minute steps: a day of 288 and a week of 2016 per series
        bank.update(300.0 * i, np.ones(1000))
    assert _held(bank) == 1000 * bytes_per_series(1, 288 + 2016)


def test_knobs_outside_their_domain_are_refused() -> None:
    with pytest.raises(ValueError):
        Auto(threshold=0.0)
    with pytest.raises(ValueError):
        Auto(rest=0)


def test_a_drift_to_a_new_extreme_is_news_the_ensemble_misses() -> None:
    """A slow climb the ensemble's guesses follow step by step surprises none of them, but it
    leaves everything the series has done behind: the new extreme scores, once, in words."""
    rng = np.random.default_rng(6)
    x = rng.normal(100, 1, 4000)
    x[3000:] += np.arange(1000) * 0.02  # climbs 20 sd in 1000 points, 0.02 sd a step
    det = Auto()
    v = [det.update(600.0 * i, float(xi)) for i, xi in enumerate(x)]
    high = [i for i, vi in enumerate(v) if vi.score >= det.params.threshold]
    assert high and high[0] < 3300 and all(i > 3000 for i in high)
    assert v[high[0]].reason.startswith("above its highest in ")
    assert "days by " in v[high[0]].reason and "% of its range" in v[high[0]].reason
