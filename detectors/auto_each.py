"""Provides ``AutoEach``: a few named series judged by ``auto``, each by an ``Auto`` of its own,
with what ``AutoRows`` offers the engine (rows that come and go, silence, a warm start), and
``banked`` to move them into an ``AutoRows`` when they grow many.

A step of a bank costs numpy's price per call, some hundred calls whatever its rows: about
160 µs, where an ``Auto`` steps one value in about 7 µs. A source of one series (an HTTP
check) or a handful judges each series on its own for a twentieth of the cost, with the same
verdicts: a bank's row is its series' ``Auto`` (``AutoBank``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from detectors.auto import Auto, AutoParams
from detectors.auto_rows import FEW, AutoRows
from detectors.base import QUIET, FloatArray, Verdict

__all__ = ["FEW", "AutoEach"]


class AutoEach:
    """``auto`` over a few named series that may appear and leave, one ``Auto`` each."""

    def __init__(self, **options: float) -> None:
        """Args:
        **options: as ``Auto``.
        """
        self.options = options
        self.rows: dict[str, Auto] = {}
        """The detector of every series held."""
        self._seen: dict[str, float] = {}
        """The time of each series' last value."""

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def params(self) -> AutoParams:
        """The knobs of its ``auto``."""
        return AutoParams(**self.options)  # type: ignore[arg-type]

    @property
    def capacity(self) -> int:
        """Series held (there are no free rows to count)."""
        return len(self.rows)

    def add(self, names: Iterable[str]) -> None:
        """Give each new name the detector of a new series (a name held keeps its own)."""
        for name in names:
            if name not in self.rows:
                self.rows[name] = Auto(**self.options)  # type: ignore[arg-type]

    def retire(self, names: Iterable[str]) -> None:
        """Forget these series (names not held are ignored)."""
        for name in names:
            self.rows.pop(name, None)
            self._seen.pop(name, None)

    def silent(self, since: float) -> list[str]:
        """The series whose last value came before ``since`` (gone, most likely)."""
        return [name for name, t in self._seen.items() if t < since]

    def step(self, t: float, names: Sequence[str], values: Sequence[float]) -> list[Verdict]:
        """Judge one value of each named series at ``t`` (names distinct, each held; a NaN is
        no value), then learn them, as ``AutoRows.step`` does."""
        if len(set(names)) != len(names):
            raise ValueError("a series may have one value per step")
        out = []
        for name, x in zip(names, values, strict=True):
            if math.isnan(x):
                out.append(QUIET)
                continue
            self._seen[name] = t
            out.append(self.rows[name].update(t, x))
        return out

    def warm(self, points: dict[str, tuple[FloatArray, FloatArray]]) -> None:
        """Set held series to a new series fed their past points (times and values, oldest
        first), as ``AutoRows.warm`` does; a name with no points keeps its state.

        Raises:
            ValueError: a time is NaN (the series are left as they were).
        """
        self.take(self.past(points), points)

    def past(self, points: dict[str, tuple[FloatArray, FloatArray]]) -> AutoRows:
        """A bank of the series that have points, fed them as ``AutoRows.past`` does: what
        ``take`` copies from (many series are fed faster together, in a bank).

        Raises:
            ValueError: a time is NaN.
        """
        return AutoRows(**self.options).past(points)

    def take(self, past: AutoRows, names: Iterable[str]) -> None:
        """Set the held series ``names`` to their state in ``past`` (a name ``past`` does not
        hold keeps its own)."""
        self.rows.update(past.autos(n for n in names if n in past.rows and n in self.rows))

    def banked(self) -> AutoRows:
        """An ``AutoRows`` holding these series in the state they are in here."""
        return AutoRows.of(self.rows, self._seen, **self.options)
