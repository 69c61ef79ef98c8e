"""Tests our own HTTP checks against a real server on 127.0.0.1: states, timeouts, the breaker."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from collectors.base import Batch, Reading, Status
from collectors.breaker import CircuitBreaker
from collectors.http_check import HttpCheckCollector
from engine import Engine
from engine.config import Config
from tests.clock import ManualClock
from tests.remote_server import RemoteServer


@pytest.fixture
def server() -> Iterator[RemoteServer]:
    with RemoteServer(slow_delay=0.25) as srv:
        yield srv


def by_key(batch: Batch) -> dict[str, Reading]:
    return {r.key: r for r in batch.readings}


def check(server: RemoteServer, path: str, **kw: object) -> HttpCheckCollector:
    kw.setdefault("timeout", 0.5)
    return HttpCheckCollector("blog", server.url + path, **kw)  # type: ignore[arg-type]


def test_up_gives_time_and_status(server: RemoteServer) -> None:
    batch = check(server, "/check/ok", slow=2.0).poll()
    got = by_key(batch)
    assert batch.source == "http:blog" and batch.errors == ()
    assert got["remote/blog/local/status"].text == "up"
    assert got["remote/blog/local/status"].status == Status.OK
    assert got["remote/blog/local/status"].value is None
    t = got["remote/blog/local/time"]
    assert t.unit == "s" and t.high == 2.0 and 0 < (t.value or 0) < 2.0
    assert "remote/blog/local/error" not in got


def test_slow_is_a_warning(server: RemoteServer) -> None:
    got = by_key(check(server, "/check/slow", slow=0.1).poll())
    assert got["remote/blog/local/status"].text == "slow"
    assert got["remote/blog/local/status"].status == Status.WARNING
    assert (got["remote/blog/local/time"].value or 0) >= 0.25
    # The time itself is past its own limit, the slow threshold, so it is flagged too.
    assert got["remote/blog/local/time"].status == Status.WARNING


def test_unexpected_status_is_down_with_its_code(server: RemoteServer) -> None:
    batch = check(server, "/check/status/503").poll()
    got = by_key(batch)
    assert got["remote/blog/local/status"].text == "down"
    assert got["remote/blog/local/status"].status == Status.CRITICAL
    assert batch.errors == ("HTTP 503 (expected 200)",)
    assert got["remote/blog/local/error"].text == "HTTP 503 (expected 200)"
    assert "remote/blog/local/time" in got  # it did answer, so its time is real


def test_expected_codes_and_head(server: RemoteServer) -> None:
    got = by_key(check(server, "/check/status/301", expect=(301, 302), method="HEAD").poll())
    assert got["remote/blog/local/status"].text == "up"


def test_a_route_that_never_answers_costs_its_timeout(server: RemoteServer) -> None:
    start = time.perf_counter()
    batch = check(server, "/check/hang", timeout=0.3).poll()
    took = time.perf_counter() - start
    assert 0.25 < took < 1.0
    assert batch.errors == ("no answer within 0.3 s",)
    got = by_key(batch)
    assert got["remote/blog/local/status"].text == "down"
    assert "remote/blog/local/time" not in got


def test_connection_refused_is_down() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    batch = HttpCheckCollector("gone", f"http://127.0.0.1:{port}/", timeout=1.0).poll()
    assert len(batch.errors) == 1 and batch.errors[0].startswith("cannot connect")
    assert by_key(batch)["remote/gone/local/status"].text == "down"


def test_a_hanging_check_never_delays_the_others(server: RemoteServer) -> None:
    hang = HttpCheckCollector("stuck", server.url + "/check/hang", timeout=2.0, interval=60)
    ok = HttpCheckCollector("fine", server.url + "/check/ok", timeout=2.0, interval=60)
    engine = Engine(Config(), [hang, ok])
    start = time.perf_counter()
    engine.start()
    try:
        while "remote/fine/local/status" not in engine.snapshot().metrics:
            assert time.perf_counter() - start < 1.5, "the good check waited for the hung one"
            time.sleep(0.01)
        assert "remote/stuck/local/status" not in engine.snapshot().metrics
    finally:
        server.release.set()  # let the hung handler go so the engine stops at once
        engine.stop()


def test_breaker_opens_after_failures_and_recovers_by_itself(server: RemoteServer) -> None:
    clock = ManualClock()
    breaker = CircuitBreaker(base_delay=10.0, max_delay=40.0, clock=clock)
    coll = check(server, "/check/flaky", breaker=breaker)
    server.override["/check/flaky"] = "500"
    lines = [coll.poll().errors for _ in range(3)]
    assert lines == [("HTTP 500 (expected 200)",)] * 2 + [
        ("HTTP 500 (expected 200) (backing off)",)
    ]
    assert server.hits["/check/flaky"] == 3
    clock.now += 5.0
    skipped = coll.poll()  # open: not asked at all, still down with the same line
    assert server.hits["/check/flaky"] == 3
    assert skipped.errors == ("HTTP 500 (expected 200) (backing off)",)
    assert by_key(skipped)["remote/blog/local/status"].text == "down"
    clock.now += 5.0
    coll.poll()  # the trial fails: open again, twice as long
    assert server.hits["/check/flaky"] == 4 and breaker.delay == 20.0
    clock.now += 19.0
    coll.poll()
    assert server.hits["/check/flaky"] == 4
    del server.override["/check/flaky"]
    server.override["/check/flaky"] = "200"
    clock.now += 1.0
    healed = coll.poll()
    assert healed.errors == () and not breaker.is_open
    assert by_key(healed)["remote/blog/local/status"].text == "up"


def test_errors_are_reported_once_per_kind_and_recovery_once(server: RemoteServer) -> None:
    clock = ManualClock()
    coll = check(server, "/check/flaky", breaker=CircuitBreaker(10.0, 10.0, clock=clock))
    engine = Engine(Config())
    server.override["/check/flaky"] = "500"
    for _ in range(6):
        engine.ingest(coll.poll())
    clock.now += 10.0
    server.override["/check/flaky"] = "200"
    for _ in range(3):
        engine.ingest(coll.poll())
    texts = [e.text for e in engine.snapshot().events if e.source == "http:blog"]
    assert texts == [
        "HTTP 500 (expected 200)",
        "HTTP 500 (expected 200) (backing off)",
        "recovered",
    ]


def test_status_change_is_an_alertable_anomaly(server: RemoteServer) -> None:
    engine = Engine(Config())
    engine.ingest(check(server, "/check/ok", slow=2.0).poll())
    assert not engine.snapshot().metrics["remote/blog/local/status"].verdict.anomalous
    engine.ingest(check(server, "/check/status/500").poll())
    state = engine.snapshot().metrics["remote/blog/local/status"]
    assert state.verdict.anomalous and state.verdict.severity == "critical"
    assert state.verdict.reason == "down"
