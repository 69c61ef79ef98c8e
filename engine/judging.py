"""Provides the engine's detectors: every series whose detector is the default ``auto`` is judged
in its source's bank: while the source has few such series, one ``Auto`` each
(``detectors.auto_each``); from ``FEW`` on, in rows of arrays (``detectors.auto_rows``), all of
a poll's values in one numpy step. A series with another detector keeps an object of its own.
Each new series, in a bank or not, is first fed the points the history file holds of it (its
warm start)."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

import detectors
from collectors.base import Reading
from detectors.auto_each import FEW, AutoEach
from detectors.auto_rows import AutoRows
from detectors.base import QUIET, Verdict
from engine.remember import WARM_ERRORS, Warmer
from engine.series import Archive

AUTO = "auto"
"""The detector judged in banks."""
SILENT = 86400.0
"""Seconds without a value after which a series of a bank is taken for gone (a target removed,
a metric renamed): its row is freed, and should it come back it is warmed like a new one."""

Report = Callable[[str, str, str], None]


class _Bank:
    """The ``auto`` series first seen in one source's polls: they tick together."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.rows: AutoEach | AutoRows = AutoEach()
        """Its series, in ``AutoRows`` once they are ``FEW``: a numpy step costs as much as
        twenty steps of an ``Auto``, so a source of one HTTP check steps its own."""
        self.lock = threading.Lock()
        """Held while the bank steps: a series may move to a bank of another source's thread."""


class Judges:
    """The detector of every series, made on its first point and kept between points.

    Polls of different sources are judged on their own threads: each bank steps under its own
    lock, and the maps from keys to banks and objects change under another.
    """

    def __init__(self, report: Report, archive: Archive | None = None) -> None:
        """Args:
        report: where a detector's failure goes (``source``, ``level``, ``text``).
        archive: the history file new series are warmed from, if any.
        """
        self._report = report
        self._warmer: Warmer | None = None
        """Warms new series from the history file, those of threads asking at once together."""
        if hasattr(archive, "recent_many"):
            self._warmer = Warmer(archive)  # type: ignore[arg-type]
        self._lock = threading.Lock()
        self._banks: dict[str, _Bank] = {}
        """The bank of each source that has ``auto`` series."""
        self._bank_of: dict[str, _Bank] = {}
        """The bank of each ``auto`` series."""
        self._objects: dict[str, tuple[str, Any]] = {}
        """The detector of each other series, with the name it was made from."""

    def judge(
        self, source: str, readings: Sequence[Reading], names: Sequence[str]
    ) -> list[Verdict]:
        """Judge one poll's readings (``names``: each one's detector); a reading with no value
        gets ``QUIET``."""
        out = [QUIET] * len(readings)
        banked: dict[_Bank, list[int]] = {}
        bank_of = self._bank_of  # read without the lock: only a new series changes it
        bank, idx, others = None, [], []
        for i, (r, name) in enumerate(zip(readings, names, strict=True)):
            if r.value is None or not math.isfinite(r.value):
                continue
            if name == AUTO:
                now = bank_of.get(r.key) or self._bank_for(r.key, source)
                if now is not bank:  # a poll's series are usually all in one bank
                    bank, idx = now, banked.setdefault(now, [])
                idx.append(i)
            else:
                others.append(i)
        if others:
            self._judge_objects(readings, names, others, out)
        for held, rows in banked.items():
            if len(rows) == len(readings):
                return self._judge_in(held, readings)
            for i, verdict in zip(
                rows, self._judge_in(held, [readings[i] for i in rows]), strict=True
            ):
                out[i] = verdict
        return out

    def rewarm(
        self, source: str, points: dict[str, tuple[Any, Any]], names: dict[str, str]
    ) -> None:
        """Make the detectors of some series again from ``points`` (times and values, oldest
        first): the ``auto`` ones in their bank's rows (a new series gets its row in
        ``source``'s bank), the others as new objects."""
        banked: dict[_Bank, dict[str, tuple[Any, Any]]] = {}
        for key, (t, x) in points.items():
            if names[key] == AUTO:
                bank = self._bank_of.get(key) or self._bank_for(key, source)
                banked.setdefault(bank, {})[key] = (t, x)
                continue
            detector = detectors.create(names[key])
            try:
                for ti, xi in zip(t.tolist(), x.tolist(), strict=True):
                    detector.update(ti, xi)
            except Exception as exc:  # a detector's bug costs the warm start, not the series
                self._report(key, "error", f"detector {names[key]} failed on the past: {exc!r}")
                continue
            self._retire(key)
            self._objects[key] = (names[key], detector)
        for bank, rows in banked.items():
            with bank.lock:
                new = [k for k in rows if k not in bank.rows.rows]
                _make_room(bank, len(new))
                bank.rows.add(new)
                try:
                    bank.rows.warm(rows)
                except WARM_ERRORS as exc:
                    self._report(
                        bank.source, "error", f"could not warm {AUTO} from the past: {exc}"
                    )

    def keep_sources(self, sources: set[str]) -> None:
        """Forget the banks of sources no longer polled: their series' rows go with them."""
        with self._lock:
            for name in [s for s in self._banks if s not in sources]:
                self._drop(self._banks[name])

    def _drop(self, bank: _Bank) -> None:
        # Under self._lock. Its series get a row in a new bank at their next point.
        self._banks.pop(bank.source, None)
        for key in list(bank.rows.rows):
            if self._bank_of.get(key) is bank:
                del self._bank_of[key]

    def _bank_for(self, key: str, source: str) -> _Bank:
        with self._lock:
            bank = self._bank_of.get(key)
            if bank is None:
                bank = self._banks.get(source)
                if bank is None:
                    bank = self._banks[source] = _Bank(source)
                self._bank_of[key] = bank
                self._objects.pop(key, None)  # its detector is auto now
            return bank

    def _judge_in(self, bank: _Bank, readings: Sequence[Reading]) -> list[Verdict]:
        """Step the bank for the readings: once per distinct time, and again for a series with
        more than one value in the poll (each series sees its values in order)."""
        keys = [r.key for r in readings]
        values = [float(r.value) for r in readings]  # type: ignore[arg-type]
        out = [QUIET] * len(readings)
        here = dict.fromkeys(keys)
        with bank.lock:
            self._retire_silent(bank, readings[0].time - SILENT, here)
            self._add(bank, here)
            try:
                for t, idx in _steps(readings, keys):
                    if len(idx) == len(keys):
                        return bank.rows.step(t, keys, values)
                    got = bank.rows.step(t, [keys[i] for i in idx], [values[i] for i in idx])
                    for i, v in zip(idx, got, strict=True):
                        out[i] = v
            except Exception as exc:  # a detector's bug costs this poll's verdicts, not the poll
                why = f"detector {AUTO} failed: {type(exc).__name__}: {exc}"
                self._report(bank.source, "error", why)
                # A bank that raised may hold broken state: its series start afresh next time.
                with self._lock:
                    self._drop(bank)
                return [QUIET] * len(readings)
        return out

    def _add(self, bank: _Bank, keys: dict[str, None]) -> None:
        """Give the bank's new series their rows, warmed with their stored points."""
        new = [k for k in keys if k not in bank.rows.rows]
        if not new:
            return
        _make_room(bank, len(new))
        bank.rows.add(new)
        if self._warmer is not None:
            try:
                self._warmer.rows(bank.rows, new)
            except WARM_ERRORS as exc:
                self._report(bank.source, "error", f"could not warm {AUTO} from history: {exc}")

    def _retire_silent(self, bank: _Bank, since: float, here: dict[str, None]) -> None:
        """Free the rows of the bank's series silent since ``since`` and not ``here`` (in this
        poll), under the bank's lock."""
        gone = [key for key in bank.rows.silent(since) if key not in here]
        if gone:
            bank.rows.retire(gone)
            with self._lock:
                for key in gone:
                    if self._bank_of.get(key) is bank:
                        del self._bank_of[key]

    def _retire(self, key: str) -> None:
        """Take a series out of its bank (its detector is no longer ``auto``)."""
        with self._lock:
            bank = self._bank_of.pop(key, None)
        if bank is not None:
            with bank.lock:
                bank.rows.retire([key])

    def _judge_objects(
        self, readings: Sequence[Reading], names: Sequence[str], idx: list[int], out: list[Verdict]
    ) -> None:
        """Judge the readings ``idx``, whose series have detectors of their own: those new to
        theirs get it first, warmed together."""
        new = {}
        for i in idx:
            held = self._objects.get(readings[i].key)
            if held is None or held[0] != names[i]:
                new[readings[i].key] = names[i]
        if new:
            self._make(new)
        for i in idx:
            out[i] = self._detect(readings[i], names[i])

    def _make(self, names: dict[str, str]) -> None:
        """Give series new detectors (``names``: each one's), fed their stored points: their
        baseline and season go on from before a restart."""
        made = {}
        for key, name in names.items():
            self._retire(key)
            made[key] = self._objects[key] = (name, detectors.create(name))
        if self._warmer is None:
            return
        try:
            past = self._warmer.points({key: detector for key, (_, detector) in made.items()})
        except WARM_ERRORS as exc:
            for key, (name, _) in made.items():
                self._report(key, "error", f"could not warm {name} from history: {exc}")
            return
        for key, (name, detector) in made.items():
            try:
                for t, x in zip(past[key].t.tolist(), past[key].x.tolist(), strict=True):
                    detector.update(t, x)
            except WARM_ERRORS as exc:
                self._report(key, "error", f"could not warm {name} from history: {exc}")

    def _detect(self, reading: Reading, name: str) -> Verdict:
        held = self._objects.get(reading.key)
        if held is None or held[0] != name:  # its detector failed earlier in this poll
            self._make({reading.key: name})
            held = self._objects[reading.key]
        try:
            return held[1].update(reading.time, reading.value)  # type: ignore[no-any-return]
        except Exception as exc:  # a detector's bug costs this point's verdict, not the poll
            self._report(
                reading.key, "error", f"detector {name} failed: {type(exc).__name__}: {exc}"
            )
            # A detector that raised may hold broken state: start it afresh at the next point.
            self._objects.pop(reading.key, None)
            return QUIET


def _make_room(bank: _Bank, new: int) -> None:
    """Move the bank's series into ``AutoRows`` if with ``new`` more they are ``FEW`` or more
    (under the bank's lock)."""
    if isinstance(bank.rows, AutoEach) and len(bank.rows) + new >= FEW:
        bank.rows = bank.rows.banked()


def _steps(readings: Sequence[Reading], keys: list[str]) -> list[tuple[float, list[int]]]:
    """The bank's steps for one poll's readings: one per distinct time, and again for a series
    with more than one value (each series sees its values in order). Usually just one."""
    t = readings[0].time
    if len(set(keys)) == len(keys) and all(r.time == t for r in readings):
        return [(t, list(range(len(readings))))]
    steps: dict[tuple[int, float], list[int]] = {}
    seen: dict[str, int] = {}
    for i, r in enumerate(readings):
        again = seen[r.key] = seen.get(r.key, -1) + 1
        steps.setdefault((again, r.time), []).append(i)
    return [(t, idx) for (_, t), idx in sorted(steps.items(), key=lambda s: s[0][0])]
