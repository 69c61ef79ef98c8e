"""Tests what an attached screen is sent each second: only the metrics that changed since the
version it holds, and only the newer events; the whole snapshot when it holds nothing or when
the metrics' keys changed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import httpx

from collectors.base import Batch, Reading
from engine import Engine, wire
from engine.client import RemoteEngineView
from engine.config import Config
from engine.daemon.changes import SnapshotCoder
from engine.engine import Snapshot
from tests.daemon_process import QUIET_SOURCES, DaemonProcess
from tests.remote_server import RemoteServer


def feed(engine: Engine, source: str, keys: list[str], t: float) -> None:
    engine.ingest(Batch(source, tuple(Reading(k, t, "", t) for k in keys)))


def decode(body: bytes | None) -> dict[str, Any]:
    assert body is not None
    data: dict[str, Any] = json.loads(body)
    return data


def keys_of(data: dict[str, Any]) -> list[str]:
    return [row[0] for row in data["metrics"]]


def test_a_client_holding_a_version_gets_only_what_changed_after_it() -> None:
    engine, coder = Engine(Config()), SnapshotCoder()
    feed(engine, "fast", ["a/1", "a/2"], 1.0)
    feed(engine, "slow", ["b/1"], 1.0)
    first = engine.snapshot()
    whole = decode(coder.encode(first))
    assert keys_of(whole) == ["a/1", "a/2", "b/1"] and "since" not in whole
    assert coder.encode(first, first.version) is None  # nothing new
    feed(engine, "fast", ["a/1", "a/2"], 2.0)
    feed(engine, "fast", ["a/1", "a/2"], 3.0)
    later = engine.snapshot()
    delta = decode(coder.encode(later, first.version))
    assert delta["since"] == first.version and keys_of(delta) == ["a/1", "a/2"]
    assert [row[1] for row in delta["metrics"]] == [3.0, 3.0]
    client = wire.snapshot_from(whole)
    got = wire.snapshot_from(delta, client)
    assert got.metrics == later.metrics and list(got.metrics) == list(later.metrics)
    assert got.metrics["b/1"] is client.metrics["b/1"]
    # A whole snapshot still, when asked for one, and for a client that holds nothing.
    assert "since" not in decode(coder.encode(later, first.version, changes=False))
    assert keys_of(decode(coder.encode(later, 0))) == ["a/1", "a/2", "b/1"]


def test_new_keys_send_the_whole_snapshot_to_those_from_before() -> None:
    engine, coder = Engine(Config()), SnapshotCoder()
    feed(engine, "fast", ["a/1"], 1.0)
    before = engine.snapshot()
    coder.encode(before)
    feed(engine, "slow", ["b/1"], 2.0)
    after = engine.snapshot()
    data = decode(coder.encode(after, before.version))
    assert "since" not in data and keys_of(data) == ["a/1", "b/1"]
    feed(engine, "fast", ["a/1"], 3.0)
    assert keys_of(decode(coder.encode(engine.snapshot(), after.version))) == ["a/1"]


def test_only_the_newer_events_go_with_the_changes() -> None:
    engine, coder = Engine(Config()), SnapshotCoder()
    feed(engine, "fast", ["a/1"], 1.0)
    engine.report("x", "info", "one")
    first = engine.snapshot()
    assert [e["text"] for e in decode(coder.encode(first))["events"]] == ["one"]
    engine.report("x", "info", "two")
    later = engine.snapshot()
    delta = decode(coder.encode(later, first.version, events_since=first.events[-1].seq))
    assert [e["text"] for e in delta["events"]] == ["two"] and delta["metrics"] == []


def wait_for(test: Callable[[], object], limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not test():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_the_attached_view_receives_only_the_series_that_changed() -> None:
    # A check polled once a minute next to series polled every 0.3 s: after the first poll,
    # the check's metrics never travel again while they do not change.
    with RemoteServer() as server:
        config = f"""{QUIET_SOURCES}
[collectors.synthetic]
series = 3
interval = 0.3
[[remote.http]]
name = "blog"
url = "{server.url}/check/ok"
interval = 60.0
"""
        with DaemonProcess(config) as daemon:
            daemon.start()
            transport = httpx.HTTPTransport(uds=str(daemon.socket))
            with httpx.Client(transport=transport, base_url="http://gongwatch") as c:
                whole: dict[str, Any] = {}

                def both_there() -> bool:
                    whole.update(c.get("/v1/changes").json()["snapshot"])
                    return any(k.startswith("remote/") for k in keys_of(whole))

                wait_for(both_there)
                params = {"since_version": whole["version"]}
                wait_for(lambda: c.get("/v1/changes", params=params).json()["snapshot"])
                delta = c.get("/v1/changes", params=params).json()["snapshot"]
                assert delta["since"] == whole["version"]
                assert keys_of(delta) and all(k.startswith("synthetic/") for k in keys_of(delta))
            view = RemoteEngineView.attach(daemon.socket, Config(refresh=0.2))
            assert view is not None
            view.start()
            try:
                wait_for(lambda: len(view.snapshot().metrics) == len(whole["metrics"]))
                held = view.snapshot()
                wait_for(lambda: view.snapshot().version > held.version)
                now = view.snapshot()
                remote = [k for k in now.metrics if k.startswith("remote/")]
                assert remote and all(now.metrics[k] is held.metrics[k] for k in remote)
                assert list(now.metrics) == list(held.metrics)
                theirs = daemon_snapshot(daemon)
                assert set(now.metrics) == set(theirs.metrics)
                assert all(now.metrics[k] == theirs.metrics[k] for k in remote)
            finally:
                view.stop()
            assert daemon.stop() == 0


def daemon_snapshot(daemon: DaemonProcess) -> Snapshot:
    transport = httpx.HTTPTransport(uds=str(daemon.socket))
    with httpx.Client(transport=transport, base_url="http://gongwatch") as c:
        return wire.snapshot_from(c.get("/v1/snapshot").json())


def test_a_history_asked_for_comes_before_the_next_poll() -> None:
    config = QUIET_SOURCES + "[collectors.synthetic]\nseries = 2\ninterval = 0.2\n"
    with DaemonProcess(config) as daemon:
        daemon.start()
        wait_for(lambda: len(daemon_snapshot(daemon).metrics) == 2)
        time.sleep(1.0)  # a few points in the daemon's history
        view = RemoteEngineView.attach(daemon.socket, Config(refresh=30.0))
        assert view is not None
        view.start()
        try:
            wait_for(lambda: len(view.snapshot().metrics) == 2)
            key = next(iter(view.snapshot().metrics))
            asked = time.monotonic()
            wait_for(lambda: len(view.history(key)) >= 3, limit=10.0)
            assert time.monotonic() - asked < 10.0  # not the 30 s refresh period
        finally:
            view.stop()
        assert daemon.stop() == 0
