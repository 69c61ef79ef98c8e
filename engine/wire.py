"""Provides the JSON form of everything the daemon sends: snapshots, metric states, readings,
verdicts, events, sources, history, alert records, device states and wire lines.

One module holds both directions, so the server and the client can never disagree, and the
tests check that every record comes back equal to what was sent.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from collectors.base import Reading, Status
from collectors.serial_link import DeviceState, LineEvent, PortInfo, Reply
from detectors.base import Verdict
from engine.alerts import AlertRecord
from engine.engine import Event, MetricState, Snapshot, SourceState
from engine.series import History
from engine.span import Span

T = TypeVar("T")
Json = dict[str, Any]

_FLAT = (Verdict, Event, SourceState, AlertRecord, DeviceState, LineEvent, PortInfo, Reply)
"""Records whose fields are all numbers, strings, None or tuples of strings."""


_NAMES: dict[type, tuple[str, ...]] = {}
_SETS: dict[type, frozenset[str]] = {}


def names(cls: type) -> tuple[str, ...]:
    """Return the field names of a record class, in order (looked up once per class)."""
    found = _NAMES.get(cls)
    if found is None:
        fields = dataclasses.fields(cls)
        found = _NAMES[cls] = tuple(f.name for f in fields)
        # Annotations are strings here (postponed evaluation): a set field says so in its name.
        _SETS[cls] = frozenset(f.name for f in fields if str(f.type).startswith("frozenset"))
    return found


def flat(obj: object) -> Json:
    """Return a record of plain fields as a JSON-ready dict (tuples and sets become lists)."""
    out: Json = {}
    for name in names(type(obj)):
        value = getattr(obj, name)
        if isinstance(value, frozenset):
            value = sorted(value)
        out[name] = list(value) if isinstance(value, tuple) else value
    return out


def unflat(cls: type[T], data: Json) -> T:
    """Rebuild a record of plain fields from ``flat``'s dict (lists become tuples or sets again).

    Raises:
        ValueError: a field is missing or unknown.
    """
    unknown = set(data) - set(names(cls))
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown fields {sorted(unknown)}")
    sets = _SETS[cls]
    values = {
        k: (frozenset(v) if k in sets else tuple(v)) if isinstance(v, list) else v
        for k, v in data.items()
    }
    try:
        return cls(**values)
    except TypeError as exc:
        raise ValueError(f"{cls.__name__}: {exc}") from None


def reading_to(r: Reading) -> Json:
    """Return a reading with every field (``to_json`` leaves some out for people)."""
    out = flat(r)
    out["status"] = str(r.status)
    return out


def reading_from(data: Json) -> Reading:
    """Rebuild a reading from ``reading_to``'s dict."""
    reading = unflat(Reading, data)
    return dataclasses.replace(reading, status=Status(reading.status))


COLUMNS = (
    *(f"reading.{n}" for n in names(Reading)),
    *(f"verdict.{n}" for n in names(Verdict)),
    "detector",
    "anomalous_since",
)
"""What each position of a metric's row holds (a snapshot of hundreds of metrics goes out every
second: rows are half the size of dicts, and quicker both ways)."""
_R, _V = len(names(Reading)), len(names(Verdict))
_STATUS = names(Reading).index("status")


def metric_row(st: MetricState) -> list[Any]:
    """Return one metric's state as a row of ``COLUMNS``."""
    r, v = st.reading, st.verdict
    return [
        *(getattr(r, n) for n in names(Reading)),
        *(getattr(v, n) for n in names(Verdict)),
        st.detector,
        st.anomalous_since,
    ]


_NEW = object.__new__
_SET_READING = tuple(getattr(Reading, n).__set__ for n in names(Reading))
_SET_VERDICT = tuple(getattr(Verdict, n).__set__ for n in names(Verdict))
_SET_STATE = tuple(getattr(MetricState, n).__set__ for n in names(MetricState))
_STATUSES = {str(s): s for s in Status}


def metric_from_row(row: Sequence[Any]) -> MetricState:
    """Rebuild one metric's state from its row.

    The records are filled field by field, past their ``__init__``: an attached screen
    rebuilds hundreds of them a second, and what ``Reading.__post_init__`` would do (a value
    past its limits is not OK) was done where the reading was made.

    Raises:
        ValueError: the row does not have the columns of ``COLUMNS``, or an unknown status.
    """
    if len(row) != len(COLUMNS):
        raise ValueError(f"a metric row has {len(COLUMNS)} columns, not {len(row)}")
    status = _STATUSES.get(row[_STATUS])
    if status is None:
        raise ValueError(f"unknown status {row[_STATUS]!r}")
    reading, verdict, state = _NEW(Reading), _NEW(Verdict), _NEW(MetricState)
    for put, value in zip(_SET_READING, row, strict=False):
        put(reading, value)
    _SET_READING[_STATUS](reading, status)
    for put, value in zip(_SET_VERDICT, row[_R : _R + _V], strict=True):
        put(verdict, value)
    for put, value in zip(_SET_STATE, (reading, verdict, row[-2], row[-1]), strict=True):
        put(state, value)
    return state


def snapshot_to(
    snap: Snapshot, rows: dict[str, tuple[MetricState, list[Any]]] | None = None
) -> Json:
    """Return a whole snapshot; metrics are rows of ``COLUMNS``.

    Args:
        snap: the snapshot.
        rows: a cache of rows by metric key, kept by the caller between snapshots: a metric
            whose state is the same object as last time is not encoded again.
    """
    cache = {} if rows is None else rows
    out = []
    for key, st in snap.metrics.items():
        held = cache.get(key)
        if held is None or held[0] is not st:
            held = cache[key] = (st, metric_row(st))
        out.append(held[1])
    return snapshot_json(snap, out, snap.events)


def snapshot_json(
    snap: Snapshot, rows: list[list[Any]], events: Sequence[Event], since: int | None = None
) -> Json:
    """Return a snapshot whose metric rows and events the caller chose.

    Args:
        snap: the snapshot (its version and sources go whole).
        rows: the rows of ``COLUMNS`` to send: every metric's, or with ``since`` only those
            that changed after that version.
        events: the events to send.
        since: None for a whole snapshot; else the version the receiver holds, whose metrics
            (the same keys, in the same order) the rows update.
    """
    out: Json = {
        "version": snap.version,
        "columns": list(COLUMNS),
        "metrics": rows,
        "sources": [flat(src) for src in snap.sources.values()],
        "events": [flat(e) for e in events],
    }
    if since is not None:
        out["since"] = since
    return out


def snapshot_from(data: Json, previous: Snapshot | None = None) -> Snapshot:
    """Rebuild a snapshot; the order of metrics and sources is kept.

    Args:
        data: what ``snapshot_to`` or ``snapshot_json`` made, through JSON.
        previous: the last snapshot rebuilt: a metric whose row is unchanged keeps its object,
            so a screen sees at once that it has nothing new. A snapshot of the changes
            ``since`` a version updates this one, which must be of that version.

    Raises:
        ValueError: the columns are not this version's, or the changes are since another
            version than ``previous``'s.
    """
    if data.get("columns", list(COLUMNS)) != list(COLUMNS):
        raise ValueError("the snapshot's metric columns are not this version's")
    since = data.get("since")
    if since is None:
        metrics = _whole(data["metrics"], previous.metrics if previous is not None else {})
    elif previous is not None and previous.version == since:
        # Only the changed rows came: they are new by definition, no need to compare them.
        metrics = dict(previous.metrics)
        for row in data["metrics"]:
            metrics[row[0]] = metric_from_row(row)
    else:
        held = "nothing" if previous is None else f"version {previous.version}"
        raise ValueError(f"changes since version {since} cannot update {held}")
    sources = (unflat(SourceState, s) for s in data["sources"])
    return Snapshot(
        data["version"],
        metrics,
        {s.name: s for s in sources},
        tuple(unflat(Event, e) for e in data["events"]),
    )


def _whole(rows: list[Any], old: dict[str, MetricState]) -> dict[str, MetricState]:
    metrics = {}
    for row in rows:
        key = row[0]
        st = old.get(key)
        if st is None or metric_row(st) != row:
            st = metric_from_row(row)
        metrics[key] = st
    return metrics


def history_to(h: History) -> Json:
    """Return the points of one metric as three parallel lists."""
    return {"t": h.t.tolist(), "x": h.x.tolist(), "anomalous": h.anomalous.tolist()}


def history_from(data: Json) -> History:
    """Rebuild the points of one metric."""
    return History(
        np.asarray(data["t"], dtype=np.float64),
        np.asarray(data["x"], dtype=np.float64),
        np.asarray(data["anomalous"], dtype=np.bool_),
    )


def span_to(s: Span) -> Json:
    """Return a span: its tier and step and its points as parallel lists (``t``, ``x`` and
    ``anomalous`` as ``history_to`` has them, so a reader of histories can read it too)."""
    return history_to(s.history()) | {
        "tier": s.tier, "step": s.step, "low": s.low.tolist(), "high": s.high.tolist(),
        "count": s.count.tolist(), "anomalies": s.anomalies.tolist(),
    }  # fmt: skip


def span_from(data: Json) -> Span:
    """Rebuild a span.

    Raises:
        KeyError: a field is missing (the answer of a daemon that sends no spans).
    """
    def floats(name: str) -> npt.NDArray[np.float64]:
        return np.asarray(data[name], dtype=np.float64)

    def ints(name: str) -> npt.NDArray[np.int64]:
        return np.asarray(data[name], dtype=np.int64)

    return Span(str(data["tier"]), float(data["step"]), floats("t"), floats("x"), floats("low"),
                floats("high"), ints("count"), ints("anomalies"))  # fmt: skip


def device_line_to(seq: int, name: str, event: LineEvent | DeviceState) -> Json:
    """Return one entry of a device's log: a line on the wire, or a change of its state."""
    kind = "state" if isinstance(event, DeviceState) else "line"
    return {"seq": seq, "device": name, "kind": kind, "event": flat(event)}


def device_line_from(data: Json) -> tuple[int, str, LineEvent | DeviceState]:
    """Rebuild one entry of a device's log: ``(seq, device, event)``."""
    cls: type[LineEvent] | type[DeviceState] = DeviceState if data["kind"] == "state" else LineEvent
    return data["seq"], data["device"], unflat(cls, data["event"])


__all__ = [
    "device_line_from",
    "device_line_to",
    "flat",
    "history_from",
    "history_to",
    "metric_from_row",
    "metric_row",
    "names",
    "reading_from",
    "reading_to",
    "snapshot_from",
    "snapshot_json",
    "snapshot_to",
    "span_from",
    "span_to",
    "unflat",
]
