"""Provides static thresholds: warning and critical limits on the value itself."""

from __future__ import annotations

from detectors.base import QUIET, Verdict, register
from detectors.scoring import finite


@register("limits", "streaming", "static thresholds: warning low/high and critical low/high")
class Limits:
    """Judge each value against fixed limits, like a sensor's ``high`` and ``critical``.

    A value beyond a warning limit is anomalous with severity ``warning`` and a score from 0.5
    (on the limit) rising towards 1 at the critical limit; beyond a critical limit it scores 1
    with severity ``critical``. Inside the limits it scores 0.
    """

    def __init__(
        self,
        low: float | None = None,
        high: float | None = None,
        crit_low: float | None = None,
        crit_high: float | None = None,
    ) -> None:
        """Args:
        low: warning below this.
        high: warning above this.
        crit_low: critical below this (at or below ``low``).
        crit_high: critical above this (at or above ``high``).
        """
        if low is not None and crit_low is not None and crit_low > low:
            raise ValueError("crit_low must not be above low")
        if high is not None and crit_high is not None and crit_high < high:
            raise ValueError("crit_high must not be below high")
        self.low = low if low is not None else crit_low
        self.high = high if high is not None else crit_high
        self.crit_low = crit_low
        self.crit_high = crit_high

    def _side(self, x: float, warn: float | None, crit: float | None, sign: float) -> Verdict:
        if crit is not None and sign * (x - crit) > 0:
            word = "above" if sign > 0 else "below"
            return Verdict(
                1.0, True, None, self.low, self.high, "critical", f"{word} crit {crit:g}"
            )
        if warn is not None and sign * (x - warn) > 0:
            frac = 0.5 if crit is None or crit == warn else 0.5 * (x - warn) / (crit - warn)
            word = "above" if sign > 0 else "below"
            return Verdict(
                0.5 + min(0.49, abs(frac)),
                True,
                None,
                self.low,
                self.high,
                "warning",
                f"{word} {warn:g}",
            )
        return QUIET

    def update(self, t: float, x: float) -> Verdict:
        """Judge ``x`` (``t`` is not used: limits do not depend on time)."""
        if not finite(x):
            return QUIET
        x = float(x)
        for warn, crit, sign in ((self.high, self.crit_high, 1.0), (self.low, self.crit_low, -1.0)):
            v = self._side(x, warn, crit, sign)
            if v.anomalous:
                return v
        return Verdict(0.0, False, None, self.low, self.high)
