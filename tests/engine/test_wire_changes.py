"""Tests the compact form of the changes an attached screen is sent: through real JSON, the
snapshots a reader rebuilds equal the engine's, whichever versions the reader skipped."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
import pytest

from collectors.base import Batch, Reading, Status
from detectors.base import Verdict
from engine import Engine, wire
from engine.config import Config
from engine.daemon.changes import SnapshotCoder
from engine.state import MetricState, Snapshot
from engine.wire_changes import SnapshotReader, column, runs
from tests.daemon_process import QUIET_SOURCES, DaemonProcess
from tests.engine.test_daemon_changes import wait_for


def feed(engine: Engine, source: str, readings: list[Reading]) -> Snapshot:
    engine.ingest(Batch(source, tuple(readings)))
    return engine.snapshot()


def values(keys: list[str], t: float, value: float | None = None) -> list[Reading]:
    return [Reading(k, t if value is None else value, "%", t, crit=1000.0) for k in keys]


def send(coder: SnapshotCoder, snap: Snapshot, held: Snapshot) -> dict[str, Any]:
    body = coder.encode(snap, held.version, cells=True)
    assert body is not None
    data: dict[str, Any] = json.loads(body)
    return data


def assert_same(got: Snapshot, snap: Snapshot) -> None:
    assert got.version == snap.version
    assert got.metrics == snap.metrics and list(got.metrics) == list(snap.metrics)
    assert got.sources == snap.sources


KEYS = [f"synthetic/s{i}" for i in range(6)]


def test_changes_rebuild_the_engines_snapshot_and_keep_what_did_not_change() -> None:
    engine, coder, reader = Engine(Config()), SnapshotCoder(), SnapshotReader()
    feed(engine, "slow", values(["disk/sda/temperature"], 1.0))
    first = feed(engine, "fast", values(KEYS, 1.0))
    assert_same(reader.read(json.loads(coder.encode(first) or b"")), first)
    held = reader.snapshot
    later = feed(engine, "fast", values(KEYS, 2.0))
    data = send(coder, later, held)
    assert data["rows"] == [[1, 7]]  # the slow source's metric comes first and did not change
    assert set(data["cells"]) == {"reading.value", "reading.time"}
    assert data["cells"]["reading.time"] == 2.0  # one value for a whole batch
    got = reader.read(data)
    assert_same(got, later)
    assert got.metrics["disk/sda/temperature"] is held.metrics["disk/sda/temperature"]
    assert got.metrics[KEYS[0]].verdict is held.metrics[KEYS[0]].verdict


def test_a_column_that_changed_in_a_version_the_reader_skipped_still_comes() -> None:
    engine, coder, reader = Engine(Config()), SnapshotCoder(), SnapshotReader()
    first = feed(engine, "fast", values(KEYS, 1.0))
    reader.read(json.loads(coder.encode(first) or b""))
    labelled = [Reading(KEYS[0], 5.0, "%", 2.0, crit=1000.0, label="first one")]
    skipped = feed(engine, "fast", labelled)
    coder.encode(skipped, first.version, cells=True)  # another client took that version
    later = feed(engine, "fast", [Reading(KEYS[0], 6.0, "%", 3.0, crit=1000.0, label="first one")])
    data = send(coder, later, first)
    assert "reading.label" in data["cells"] and data["rows"] == [[0, 1]]
    assert_same(reader.read(data), later)
    assert reader.snapshot.metrics[KEYS[0]].reading.label == "first one"


def test_new_keys_send_the_whole_snapshot_and_the_reader_takes_it() -> None:
    engine, coder, reader = Engine(Config()), SnapshotCoder(), SnapshotReader()
    first = feed(engine, "fast", values(KEYS[:2], 1.0))
    reader.read(json.loads(coder.encode(first) or b""))
    more = feed(engine, "fast", values(KEYS[:4], 2.0))
    data = send(coder, more, first)
    assert "cells" not in data and "since" not in data
    assert_same(reader.read(data), more)
    again = feed(engine, "fast", values(KEYS[2:4], 3.0))
    data = send(coder, again, more)
    assert data["rows"] == [[2, 4]]
    assert_same(reader.read(data), again)


def test_changes_since_another_version_are_refused_and_change_nothing() -> None:
    engine, coder, reader = Engine(Config()), SnapshotCoder(), SnapshotReader()
    first = feed(engine, "fast", values(KEYS, 1.0))
    second = feed(engine, "fast", values(KEYS, 2.0))
    third = feed(engine, "fast", values(KEYS, 3.0))
    reader.read(json.loads(coder.encode(first) or b""))
    data = send(coder, third, second)
    with pytest.raises(ValueError, match=f"since version {second.version}"):
        reader.read(data)
    assert reader.snapshot.version == first.version
    with pytest.raises(ValueError, match="cannot update nothing"):
        SnapshotReader().read(send(coder, third, first))
    broken = send(coder, third, first) | {"rows": [[0, 99]]}
    with pytest.raises(ValueError, match="rows"):
        reader.read(broken)
    strange = send(coder, third, first)
    strange["cells"]["reading.colour"] = "red"
    with pytest.raises(ValueError, match=r"reading\.colour"):
        reader.read(strange)
    assert_same(reader.read(send(coder, third, first)), third)  # still at the first version


def test_every_field_of_a_rebuilt_record_comes_from_its_own_column() -> None:
    # The records are filled past their __init__, field by field: a field filled from its
    # neighbour's column would pass every test whose columns hold alike values.
    engine, coder, reader = Engine(Config()), SnapshotCoder(), SnapshotReader()
    reader.read(json.loads(coder.encode(feed(engine, "fast", values(KEYS[:1], 1.0))) or b""))
    held = reader.snapshot
    state = held.metrics[KEYS[0]]
    reading = Reading(
        KEYS[0], 2.5, "°C", 3.0, low=1.5, high=90.0, crit=95.0, status=Status.WARNING,
        text="warm", label="Core 0", lcrit=-5.0,
    )  # fmt: skip
    verdict = Verdict(0.75, True, 20.5, 10.5, 30.5, "critical", "above its band")
    changed = MetricState(reading, verdict, "other", 12.0)
    data = {
        "version": held.version + 1, "since": held.version, "rows": [[0, 1]],
        "cells": dict(zip(wire.COLUMNS[1:], wire.metric_row(changed)[1:], strict=True)),
        "sources": [], "events": [],
    }  # fmt: skip
    got = json.loads(json.dumps(data))
    assert reader.read(got).metrics[KEYS[0]] == changed
    assert all(getattr(reading, n) != getattr(state.reading, n) for n in wire.names(Reading)[1:])


def test_runs_and_columns() -> None:
    assert runs([]) == []
    assert runs([0, 1, 2, 5, 7, 8]) == [[0, 3], [5, 6], [7, 9]]
    assert column(["ok", "ok"]) == "ok" and column([None, None]) is None
    # Equal but not the same on a screen: 1, 1.0 and True stay a list; so does NaN.
    assert column([1, 1.0, True]) == [1, 1.0, True]
    assert isinstance(column([math.nan, math.nan]), list)


def test_the_daemons_route_sends_the_compact_form_to_a_client_that_asks() -> None:
    config = QUIET_SOURCES + "[collectors.synthetic]\nseries = 4\ninterval = 0.2\n"
    with DaemonProcess(config) as daemon:
        daemon.start()
        transport = httpx.HTTPTransport(uds=str(daemon.socket))
        with httpx.Client(transport=transport, base_url="http://gongwatch") as c:
            reader = SnapshotReader()

            def poll() -> dict[str, Any]:
                params = {"since_version": reader.snapshot.version, "cells": 1}
                got: dict[str, Any] = c.get("/v1/changes", params=params).json()["snapshot"]
                return got

            wait_for(lambda: len(reader.read(poll()).metrics) == 4)
            compact: list[dict[str, Any]] = []

            def same_as_the_daemon() -> bool:
                data = poll()
                if data is not None:
                    compact.append(data)
                    reader.read(data)
                whole = c.get("/v1/snapshot").json()
                if whole["version"] != reader.snapshot.version:
                    return False  # a new version came in between: ask again
                assert_same(reader.snapshot, SnapshotReader().read(whole))
                return True

            wait_for(lambda: same_as_the_daemon() and compact)
            assert all("cells" in data and "metrics" not in data for data in compact)
        assert daemon.stop() == 0
