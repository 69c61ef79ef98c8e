"""Provides the JSON form of everything the daemon sends: snapshots, metric states, readings,
verdicts, events, sources, history, alert records, device states and wire lines.

One module holds both directions, so the server and the client can never disagree, and the
tests check that every record comes back equal to what was sent.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

import numpy as np

from collectors.base import Reading, Status
from collectors.serial_link import DeviceState, LineEvent, PortInfo, Reply
from detectors.base import Verdict
from engine.alerts import AlertRecord
from engine.engine import Event, MetricState, Snapshot, SourceState
from engine.series import History

T = TypeVar("T")
Json = dict[str, Any]

_FLAT = (Verdict, Event, SourceState, AlertRecord, DeviceState, LineEvent, PortInfo, Reply)
"""Records whose fields are all numbers, strings, None or tuples of strings."""


def flat(obj: object) -> Json:
    """Return a record of plain fields as a JSON-ready dict (tuples become lists)."""
    out: Json = {}
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def unflat(cls: type[T], data: Json) -> T:
    """Rebuild a record of plain fields from ``flat``'s dict (lists become tuples again).

    Raises:
        ValueError: a field is missing or unknown.
    """
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"{cls.__name__}: unknown fields {sorted(unknown)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
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


def metric_to(st: MetricState) -> Json:
    """Return one metric's state."""
    return {
        "reading": reading_to(st.reading),
        "verdict": flat(st.verdict),
        "detector": st.detector,
        "anomalous_since": st.anomalous_since,
    }


def metric_from(data: Json) -> MetricState:
    """Rebuild one metric's state."""
    return MetricState(
        reading_from(data["reading"]),
        unflat(Verdict, data["verdict"]),
        data["detector"],
        data.get("anomalous_since"),
    )


def snapshot_to(snap: Snapshot) -> Json:
    """Return a whole snapshot."""
    return {
        "version": snap.version,
        "metrics": [metric_to(st) for st in snap.metrics.values()],
        "sources": [flat(src) for src in snap.sources.values()],
        "events": [flat(e) for e in snap.events],
    }


def snapshot_from(data: Json) -> Snapshot:
    """Rebuild a snapshot; the order of metrics and sources is kept."""
    metrics = (metric_from(m) for m in data["metrics"])
    sources = (unflat(SourceState, s) for s in data["sources"])
    return Snapshot(
        data["version"],
        {m.key: m for m in metrics},
        {s.name: s for s in sources},
        tuple(unflat(Event, e) for e in data["events"]),
    )


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
    "metric_from",
    "metric_to",
    "reading_from",
    "reading_to",
    "snapshot_from",
    "snapshot_to",
    "unflat",
]
