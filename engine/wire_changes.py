"""Provides the compact form of what an attached screen is sent each second, both directions:
``changes_json`` (the daemon's side) and ``SnapshotReader`` (the screen's side).

With hundreds of series polled every second, every metric's row changes between two polls,
yet only a few of its twenty columns do (the value and the time of a reading; the score of a
verdict). Sent as rows, each second carries the unit, the limits, the status and the detector
of every metric again, and the screen rebuilds every record from scratch. In this form the
changes carry the positions of the rows that changed, as runs, and only the columns in which
a cell changed, each as the list of its new values or, when they are all the same (the time of
a batch, a status), as that one value::

    {"version": 12, "since": 11, "rows": [[0, 500]],
     "cells": {"reading.value": [20.9, 76.6, ...], "reading.time": 1796022543.08}, ...}

The screen keeps the rows it holds and rebuilds the records of the changed ones from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from collectors.base import Reading, Status
from detectors.base import Verdict
from engine import wire
from engine.state import Event, MetricState, Snapshot, SourceState

Json = dict[str, Any]
COLUMNS = wire.COLUMNS
_INDEX = {name: i for i, name in enumerate(COLUMNS)}
_R, _V = len(wire.names(Reading)), len(wire.names(Verdict))
_STATUS = wire.names(Reading).index("status")
_STATUSES = {str(s): s for s in Status}
_NEW = object.__new__
_SET_READING = tuple(getattr(Reading, n).__set__ for n in wire.names(Reading))
_SET_VERDICT = tuple(getattr(Verdict, n).__set__ for n in wire.names(Verdict))
_PUT_STATUS = _SET_READING[_STATUS]
_PUT_READING, _PUT_VERDICT, _PUT_DETECTOR, _PUT_SINCE = (
    getattr(MetricState, n).__set__ for n in wire.names(MetricState)
)


def runs(positions: Iterable[int]) -> list[list[int]]:
    """Return increasing positions as ``[start, stop]`` runs: ``[0, 1, 2, 5]`` is
    ``[[0, 3], [5, 6]]``."""
    out: list[list[int]] = []
    for p in positions:
        if out and out[-1][1] == p:
            out[-1][1] = p + 1
        else:
            out.append([p, p + 1])
    return out


def column(values: Sequence[Any]) -> Any:
    """Return a column's new values as sent: the one value when they are all the same (and of
    the same type: ``1``, ``1.0`` and ``True`` are equal, but not the same on a screen), else
    the list. A cell is never a list itself, so the two cannot be confused."""
    first = values[0]
    kind = type(first)
    if all(v == first and type(v) is kind for v in values):
        return first
    return list(values)


def changes_json(
    snap: Snapshot, positions: list[int], rows: list[list[Any]], changed: Iterable[int],
    events: Sequence[Event], since: int,
) -> Json:  # fmt: skip
    """Return the changes since version ``since`` in the compact form.

    Args:
        snap: the snapshot (its version and sources go whole).
        positions: where the changed metrics are in ``snap``'s order, increasing.
        rows: their rows of ``wire.COLUMNS``, in the same order.
        changed: the positions in ``wire.COLUMNS`` of every column in which a cell of these
            rows may have changed since ``since`` (more do no harm, fewer lose changes).
        events: the events to send.
        since: the version the receiver holds; ``snap`` has the same keys in the same order.
    """
    cells = {COLUMNS[c]: column([row[c] for row in rows]) for c in changed} if rows else {}
    return {
        "version": snap.version,
        "since": since,
        "rows": runs(positions),
        "cells": cells,
        "sources": [wire.flat(src) for src in snap.sources.values()],
        "events": [wire.flat(e) for e in events],
    }


class SnapshotReader:
    """Rebuilds the daemon's snapshots from its answers (whole, or changes in either form),
    keeping the rows of what it holds so that changes cost only what changed.

    A metric whose row did not change keeps its record, so a screen sees at once that it has
    nothing new; a changed metric whose verdict did not change keeps its verdict.
    """

    def __init__(self) -> None:
        self.snapshot = Snapshot(0)
        """The last snapshot rebuilt."""
        self._rows: list[list[Any]] = []
        """The rows of ``snapshot``'s metrics, in its order."""

    def read(self, data: Json) -> Snapshot:
        """Take one answer of the daemon's and return the snapshot it makes.

        Raises:
            ValueError: the answer is not of this version's form, or holds changes since
                another version than the one held (the reader is then as it was).
        """
        if "cells" in data:
            metrics = self._apply(data)
        else:
            snap = wire.snapshot_from(data, self.snapshot if self._rows else None)
            if "since" in data:  # the rows of an older daemon: only those that changed
                self._rows = [wire.metric_row(st) for st in snap.metrics.values()]
            else:
                self._rows = [list(row) for row in data["metrics"]]
            self.snapshot = snap
            return snap
        sources = (wire.unflat(SourceState, s) for s in data["sources"])
        self.snapshot = Snapshot(
            data["version"],
            metrics,
            {s.name: s for s in sources},
            tuple(wire.unflat(Event, e) for e in data["events"]),
        )
        return self.snapshot

    def forget(self) -> None:
        """Hold nothing: the next answer must be a whole snapshot (a new daemon)."""
        self.snapshot, self._rows = Snapshot(0), []

    def _apply(self, data: Json) -> dict[str, MetricState]:
        since = data["since"]
        if not self._rows or since != self.snapshot.version:
            held = f"version {self.snapshot.version}" if self._rows else "nothing"
            raise ValueError(f"changes since version {since} cannot update {held}")
        cells = [(_column(name), values) for name, values in data["cells"].items()]
        positions = [p for start, stop in data["rows"] for p in range(start, stop)]
        if positions and not 0 <= min(positions) <= max(positions) < len(self._rows):
            raise ValueError("the changes name rows the snapshot held does not have")
        new = [list(self._rows[p]) for p in positions]
        for c, values in cells:
            if isinstance(values, list):
                if len(values) != len(new):
                    raise ValueError(f"{COLUMNS[c]}: {len(values)} values for {len(new)} rows")
                for row, v in zip(new, values, strict=True):
                    row[c] = v
            else:
                for row in new:
                    row[c] = values
        verdicts = any(_R <= c < _R + _V for c, _ in cells)
        metrics = dict(self.snapshot.metrics)
        keys = list(metrics)
        states = [
            _state(row, None if verdicts else metrics[keys[p]].verdict)
            for p, row in zip(positions, new, strict=True)
        ]
        for p, row, state in zip(positions, new, states, strict=True):
            metrics[keys[p]] = state
            self._rows[p] = row  # only now: a refused answer leaves the rows as they were
        return metrics


def _column(name: str) -> int:
    c = _INDEX.get(name)
    if c is None or c == 0:
        raise ValueError(f"unknown or unchangeable column {name!r} in the changes")
    return c


def _state(row: list[Any], verdict: Verdict | None) -> MetricState:
    """Build one metric's records from its row, past their ``__init__`` (see
    ``wire.metric_from_row``); ``verdict`` is kept when given (its columns did not change)."""
    status = _STATUSES.get(row[_STATUS])
    if status is None:
        raise ValueError(f"unknown status {row[_STATUS]!r}")
    return _build(row, status, verdict)


def _builder() -> Callable[[list[Any], Status, Verdict | None], MetricState]:
    """Return a function that fills a metric's three records from its row, one field a line.

    Written out field by field, as ``dataclasses`` writes an ``__init__``: a loop over the
    fields' setters costs half as much again, paid for each of the hundreds of records a
    screen rebuilds each second.
    """
    scope: dict[str, Any] = {"new": _NEW, "Reading": Reading, "Verdict": Verdict}
    scope["MetricState"] = MetricState
    lines = ["def build(row, status, verdict):", "    r = new(Reading)"]
    for i, put in enumerate(_SET_READING):
        scope[f"r{i}"] = put
        lines.append(f"    r{i}(r, {'status' if i == _STATUS else f'row[{i}]'})")
    lines += ["    if verdict is None:", "        verdict = new(Verdict)"]
    for i, put in enumerate(_SET_VERDICT):
        scope[f"v{i}"] = put
        lines.append(f"        v{i}(verdict, row[{_R + i}])")
    lines.append("    m = new(MetricState)")
    puts = (_PUT_READING, _PUT_VERDICT, _PUT_DETECTOR, _PUT_SINCE)
    values = ("r", "verdict", "row[-2]", "row[-1]")
    for i, (put, value) in enumerate(zip(puts, values, strict=True)):
        scope[f"m{i}"] = put
        lines.append(f"    m{i}(m, {value})")
    lines.append("    return m")
    exec("\n".join(lines), scope)  # the text is made above, from the fields' positions only
    return cast("Callable[[list[Any], Status, Verdict | None], MetricState]", scope["build"])


_build = _builder()


__all__ = ["SnapshotReader", "changes_json", "column", "runs"]
