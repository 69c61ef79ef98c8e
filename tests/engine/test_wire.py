"""Tests the JSON form of the daemon's records: each comes back equal through real JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from collectors.base import Reading, Status
from collectors.serial_link import DeviceState, LineEvent, PortInfo, Reply
from detectors.base import Verdict
from engine import wire
from engine.alerts import AlertRecord
from engine.engine import Event, MetricState, Snapshot, SourceState
from engine.series import History


def through_json(data: object) -> object:
    return json.loads(json.dumps(data))


READING = Reading(
    "sensors/coretemp-isa-0000/Core 0", 71.5, "°C", 1764460800.125, low=None, high=80.0,
    crit=95.0, status=Status.WARNING, text=None, label="Core 0",
)  # fmt: skip
VERDICT = Verdict(0.93, True, 60.0, 55.0, 65.0, "warning", "above high 80 °C")


def snapshot() -> Snapshot:
    text_only = Reading("disk/sda/smart/health", None, "", 1.0, text="PASSED")
    metrics = {
        READING.key: MetricState(READING, VERDICT, "auto", 12.5),
        text_only.key: MetricState(text_only, Verdict(0.0, False), "robust_z"),
    }
    sources = {
        "sensors": SourceState("sensors", 5.0, 7, 1764460800.5, 0.02, None, ("fan2: EIO",)),
        "smart": SourceState("smart", 300.0, unavailable="smartctl not found"),
    }
    events = (Event(1, 1.0, "sensors", "error", "fan2: EIO"), Event(2, 2.0, "s", "info", "ok"))
    return Snapshot(42, metrics, sources, events)


def test_a_snapshot_comes_back_equal() -> None:
    snap = snapshot()
    back = wire.snapshot_from(through_json(wire.snapshot_to(snap)))  # type: ignore[arg-type]
    assert back == snap
    assert list(back.metrics) == list(snap.metrics)  # the order is kept
    assert back.metrics[READING.key].reading.status is Status.WARNING


def test_unchanged_metrics_keep_their_objects_both_ways() -> None:
    snap = snapshot()
    rows: dict[str, object] = {}
    first = wire.snapshot_to(snap, rows)  # type: ignore[arg-type]
    again = wire.snapshot_to(snap, rows)  # type: ignore[arg-type]
    assert first["metrics"][0] is again["metrics"][0]  # not encoded twice
    back = wire.snapshot_from(through_json(first))  # type: ignore[arg-type]
    moved = dict(snap.metrics)
    moved[READING.key] = MetricState(READING, Verdict(0.1, False), "auto")
    changed = wire.snapshot_to(Snapshot(43, moved, snap.sources, snap.events))
    later = wire.snapshot_from(through_json(changed), back)  # type: ignore[arg-type]
    text_key = "disk/sda/smart/health"
    assert later.metrics[text_key] is back.metrics[text_key]
    assert later.metrics[READING.key] == moved[READING.key]


def test_a_row_of_another_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="columns"):
        wire.metric_from_row([1, 2, 3])


def test_a_reading_keeps_every_field() -> None:
    assert wire.reading_from(through_json(wire.reading_to(READING))) == READING  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "record",
    [
        VERDICT,
        Event(7, 1.5, "engine", "warning", "observers fell behind"),
        SourceState("remote:sd", 60.0, 3, 2.0, 0.5, None, ("a", "b")),
        AlertRecord(3, 1.0, "gong", "synthetic/s0000", "critical", "critical: limit", "ok gong"),
        AlertRecord(4, 1.0, "command", "k", "warning", "sleep 300", None, ok=True),
        DeviceState("gong", "/dev/ttyUSB0", "connected", "gong", "1.0", "gong 1.0"),
        DeviceState("map", "/dev/ttyACM0", "connected", "map", "1.1", "", frozenset({"a", "b"})),
        LineEvent(1.0, "/dev/ttyUSB0", "received", "ok gong", 0.012),
        PortInfo("/dev/ttyACM0", "Arduino Uno", "map", "1.0"),
        Reply("ok all up", 0.03),
    ],
)
def test_every_record_comes_back_equal(record: object) -> None:
    back = wire.unflat(type(record), through_json(wire.flat(record)))  # type: ignore[arg-type]
    assert back == record


def test_history_comes_back_equal_with_nan_free_arrays() -> None:
    h = History(np.array([1.0, 2.0]), np.array([3.5, math.pi]), np.array([False, True]))
    back = wire.history_from(through_json(wire.history_to(h)))  # type: ignore[arg-type]
    assert back.t.tolist() == h.t.tolist() and back.x.tolist() == h.x.tolist()
    assert back.anomalous.dtype == np.bool_ and back.anomalous.tolist() == [False, True]


def test_device_log_entries_say_which_kind_they_are() -> None:
    line = LineEvent(1.0, "/dev/pts/3", "sent", "gong")
    state = DeviceState("map", None, "idle")
    for event in (line, state):
        data = through_json(wire.device_line_to(9, "gong", event))
        assert wire.device_line_from(data) == (9, "gong", event)  # type: ignore[arg-type]


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fields"):
        wire.unflat(Reply, {"line": "ok", "latency": 0.1, "extra": 1})


def test_changes_since_a_version_update_that_version() -> None:
    snap = snapshot()
    back = wire.snapshot_from(through_json(wire.snapshot_to(snap)))  # type: ignore[arg-type]
    moved = MetricState(READING, Verdict(0.1, False), "auto")
    rows = [wire.metric_row(moved)]
    later = Snapshot(43, {**snap.metrics, READING.key: moved}, snap.sources, snap.events[1:])
    data = through_json(wire.snapshot_json(later, rows, later.events, since=42))
    got = wire.snapshot_from(data, back)  # type: ignore[arg-type]
    assert got == later
    assert list(got.metrics) == list(snap.metrics)  # the order is kept
    text_key = "disk/sda/smart/health"
    assert got.metrics[text_key] is back.metrics[text_key]  # not sent, the same object
    with pytest.raises(ValueError, match="since version 42"):
        wire.snapshot_from(data, Snapshot(41))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="since version 42"):
        wire.snapshot_from(data)  # type: ignore[arg-type]
