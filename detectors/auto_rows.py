"""Provides ``AutoRows``: the ``auto`` detector over a changing set of named series, in one
``AutoBank`` stepped once per tick, with the verdicts ``Auto`` gives, reasons in words included.

Series come and go while a monitor runs: a new name takes a free row, or the bank grows by a
chunk (amortised: each growth adds half as many rows again as it holds); a retired name's row is
reset and reused. A tick steps only the rows given a value; the others keep their state, as a
series' own ``Auto`` does when it gets no point.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict

import numpy as np

from detectors.auto import Auto, AutoParams, describe, novel_words
from detectors.auto_bank import AutoBank, BankVerdicts, IntArray
from detectors.base import QUIET, FloatArray, Verdict

CHUNK = 64
"""Fewest rows a bank grows by."""
FEW = 20
"""Fewer series than this are warmed each through an ``Auto`` of its own and copied in: a
step of a bank of up to fifty costs about what twenty ``Auto`` steps do (numpy's cost per
call), so a series warmed alone takes a twentieth of what a bank of its own would."""


class AutoRows:
    """``auto`` over named series that may appear and leave, one numpy step per tick."""

    def __init__(self, **options: float) -> None:
        """Args:
        **options: as ``Auto``.
        """
        self.bank = AutoBank(0, **options)
        self.rows: dict[str, int] = {}
        """The row of every series held."""
        self._free: list[int] = []
        self._t0 = np.zeros(0)
        """The time of each row's first value (how long its history is, in words)."""
        self._why: list[str] = []
        """The reason each row's current anomalous run started with."""
        self._seen = np.zeros(0)
        """The time of each row's last step with a value; +inf for a row not yet given one."""
        self._names: list[str | None] = []
        """The series of each row; None for a free one."""

    @classmethod
    def of(cls, autos: Mapping[str, Auto], seen: Mapping[str, float], **options: float) -> AutoRows:
        """Rows of these series in the state their ``Auto`` (with ``options``) holds, each
        last given a value at its time in ``seen``."""
        rows = cls(**options)
        if autos:
            rows._grow(len(autos))
            rows.add(autos)  # rows 0, 1, ... in order: the bank holds exactly these
            rows.hold(list(autos.values()))
            rows._seen[:] = [seen.get(name, np.inf) for name in autos]
        return rows

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def params(self) -> AutoParams:
        """The knobs of its ``auto``."""
        return self.bank.params

    @property
    def capacity(self) -> int:
        """Rows the bank holds, in use or free."""
        return self.bank.n

    def add(self, names: Iterable[str]) -> list[int]:
        """Give each new name a row in the state of a new series; return the rows (a name
        already held keeps its own)."""
        new = [n for n in dict.fromkeys(names) if n not in self.rows]
        short = len(new) - len(self._free)
        if short > 0:
            self._grow(max(short, CHUNK, self.bank.n // 2))
        for name in new:
            r = self.rows[name] = self._free.pop()
            self._names[r] = name
        return [self.rows[n] for n in new]

    def _grow(self, extra: int) -> None:
        start = self.bank.n
        self.bank.grow(extra)
        self._t0 = np.concatenate([self._t0, np.zeros(extra)])
        self._why.extend([""] * extra)
        self._seen = np.concatenate([self._seen, np.full(extra, np.inf)])
        self._names.extend([None] * extra)
        # Popped from the end: the lowest rows are used first.
        self._free.extend(range(start + extra - 1, start - 1, -1))

    def retire(self, names: Iterable[str]) -> None:
        """Forget these series (names not held are ignored): their rows are reset for reuse."""
        rows = np.array([self.rows.pop(n) for n in set(names) if n in self.rows], dtype=np.int64)
        if not len(rows):
            return
        self.bank.load(rows, AutoBank(len(rows), **asdict(self.bank.params)))
        for r in rows.tolist():
            self._t0[r], self._why[r], self._seen[r], self._names[r] = 0.0, "", np.inf, None
        self._free.extend(sorted(rows.tolist(), reverse=True))

    def silent(self, since: float) -> list[str]:
        """The series whose last value came before ``since`` (gone, most likely)."""
        return [self._names[r] or "" for r in np.flatnonzero(self._seen < since).tolist()]

    def step(self, t: float, names: Sequence[str], values: Sequence[float]) -> list[Verdict]:
        """Judge one value of each named series at ``t`` (names distinct, each held; a NaN is
        no value), then learn them; the other series keep their state."""
        held = self.rows
        rows = np.array([held[n] for n in names], dtype=np.int64)
        x = np.full(self.bank.n, np.nan)
        x[rows] = values
        if np.count_nonzero(~np.isnan(x)) != np.count_nonzero(~np.isnan(values)):
            raise ValueError("a series may have one value per step")
        self._seen[rows[~np.isnan(x[rows])]] = t
        return self._verdicts(t, x, rows)

    def _verdicts(self, t: float, x: FloatArray, rows: IntArray) -> list[Verdict]:
        """Step the bank on ``x`` (every row), and return the verdicts of ``rows``."""
        score, on, expected, low, high = self._advance(t, x)
        return self._pick(rows, score, on, expected, low, high, self.bank.last.ready)

    def _advance(self, t: float | FloatArray, x: FloatArray) -> BankVerdicts:
        """Step the bank on ``x`` (every row) at ``t`` (one time, or each row's own),
        keeping what the reasons are written from."""
        bank = self.bank
        # What the reasons need from before the step: the range a new extreme left, and
        # which rows get their first value now.
        lo, hi = bank.f["lo"].copy(), bank.f["hi"].copy()
        first = np.isfinite(x) & (bank.i["n"] == 0)
        verdicts = bank.update(t, x)
        times = np.broadcast_to(t, x.shape)
        self._t0[first] = times[first]
        parts = bank.last
        for r in np.flatnonzero(verdicts.score >= bank.params.threshold).tolist():
            age = float(times[r]) - float(self._t0[r])
            self._why[r] = (
                novel_words(float(x[r]), float(lo[r]), float(hi[r]), age)
                if parts.novel[r]
                else describe(float(parts.surprise[r]), float(parts.decades[r]))
            )
        return verdicts

    def _pick(self, rows: IntArray, *columns: np.ndarray) -> list[Verdict]:
        threshold = self.bank.params.threshold
        out = []
        for r, s, a, e, lo, hi, ready in zip(
            rows.tolist(), *(c[rows].tolist() for c in columns), strict=True
        ):
            if not ready:
                out.append(QUIET)
            elif not a:
                out.append(Verdict(s, False, e, lo, hi, "none", ""))
            else:
                why = self._why[r] if s >= threshold else f"{self._why[r]} (ongoing)"
                out.append(Verdict(s, True, e, lo, hi, "warning", why))
        return out

    def warm(self, points: dict[str, tuple[FloatArray, FloatArray]]) -> None:
        """Feed held series their past points (times and values, oldest first) as their own
        ``Auto`` would be fed them, all in one bank (see ``past``).

        Raises:
            ValueError: a time is NaN (the series are left as they were).
        """
        self.take(self.past(points), points)

    def past(self, points: dict[str, tuple[FloatArray, FloatArray]]) -> AutoRows:
        """A bank of the series that have points, with this bank's knobs, fed them as their
        own ``Auto`` would be: what ``take`` copies from. Made apart from any bank holding
        the series, so that the new series of several banks are fed together.

        Each step feeds every series its next point at that point's own time: a bank's
        series never meet in a step (each row is its own ``Auto``), so they need not be in
        step, and series polled apart take as few steps as series polled together.

        Raises:
            ValueError: a time is NaN.
        """
        names = [n for n, (t, _) in points.items() if len(t)]
        past = AutoRows(**asdict(self.bank.params))
        if not names:
            return past
        if any(np.isnan(points[n][0]).any() for n in names):
            raise ValueError("a point's time is not a number")
        past._grow(len(names))
        past.add(names)  # rows 0, 1, ... in order: the bank holds exactly these
        if len(names) < FEW:
            past._feed_each(names, points)
            return past
        length = max(len(points[n][0]) for n in names)
        tt = np.zeros((len(names), length))
        xx = np.full((len(names), length), np.nan)  # no value past a series' last point
        for j, n in enumerate(names):
            t, x = points[n]
            tt[j, : len(t)], xx[j, : len(t)] = t, x
            tt[j, len(t) :] = t[-1]  # a time, though unused: no infinities in the steps
        for k in range(length):
            past._advance(tt[:, k], xx[:, k])
        return past

    def _feed_each(
        self, names: list[str], points: dict[str, tuple[FloatArray, FloatArray]]
    ) -> None:
        """Feed each of a few series (rows 0, 1, ... of this bank) through an ``Auto`` of its
        own and take on their states: numpy's cost per call outweighs a step of few rows."""
        autos = []
        for name in names:
            auto = Auto(**asdict(self.bank.params))
            t, x = points[name]
            for a, b in zip(t.tolist(), x.tolist(), strict=True):
                auto.update(a, b)
            autos.append(auto)
        self.hold(autos)

    def hold(self, autos: list[Auto]) -> None:
        """Take on the states of these ``Auto`` (of this bank's knobs) as rows 0, 1, ..., the
        bank holding exactly as many rows."""
        self.bank = AutoBank.of(autos)
        self._t0[: len(autos)] = [a._t0 for a in autos]
        self._why[: len(autos)] = [a._why for a in autos]

    def autos(self, names: Iterable[str]) -> dict[str, Auto]:
        """Each of these held series as an ``Auto`` of its own, in the state its row holds."""
        out = {}
        for name in names:
            r = self.rows[name]
            out[name] = auto = self.bank.auto(r)
            auto._t0, auto._why = float(self._t0[r]), self._why[r]
        return out

    def take(self, past: AutoRows, names: Iterable[str]) -> None:
        """Set the held series ``names`` to their state in ``past`` (a name ``past`` does not
        hold keeps its own)."""
        both = [n for n in names if n in past.rows]
        if not both:
            return
        mine = np.array([self.rows[n] for n in both], dtype=np.int64)
        theirs = np.array([past.rows[n] for n in both], dtype=np.int64)
        self.bank.load(mine, past.bank, theirs)
        self._t0[mine] = past._t0[theirs]
        for m, t in zip(mine.tolist(), theirs.tolist(), strict=True):
            self._why[m] = past._why[t]
