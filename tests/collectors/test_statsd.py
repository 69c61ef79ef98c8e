"""Tests the StatsD listener with a real StatsD client over UDP on 127.0.0.1, the engine
running it, and a bounded fuzz of the line parser."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import statsd
from hypothesis import given, settings
from hypothesis import strategies as st

from collectors.statsd import StatsdCollector
from collectors.statsd_protocol import MAX_NAMES, Aggregator, Sample, parse_line
from engine.config_reader import parse
from engine.engine import Engine
from engine.sources import build_collectors
from tests.servers import free_port, wait_for

MALFORMED = [b"garbage", b"x:1|q", b"y:abc|c", b"\xff\xfe:1|c", b"z:1|c|@2", b"w:nan|g", b":1|c"]


@pytest.fixture
def listener() -> Iterator[StatsdCollector]:
    collector = StatsdCollector("127.0.0.1", free_port(socket.SOCK_DGRAM), flush=10.0)
    first = collector.poll()  # the first poll starts listening
    assert first.unavailable is None
    yield collector
    collector.close()


def send_raw(collector: StatsdCollector, *packets: bytes) -> None:
    address = collector.address
    assert address is not None
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for p in packets:
            s.sendto(p, address)


def values(collector: StatsdCollector) -> tuple[dict[str, float | None], tuple[str, ...]]:
    batch = collector.poll()
    return {r.key: r.value for r in batch.readings}, batch.errors


def test_a_real_client_counters_gauges_timers_sets(
    listener: StatsdCollector, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The client samples by itself at rates below 1; make it send every time, so the
    # listener's scaling by the rate is what the test sees.
    monkeypatch.setattr(statsd.client.base, "random", SimpleNamespace(random=lambda: 0.0))
    assert listener.address is not None
    client = statsd.StatsClient(*listener.address, prefix="app")
    for _ in range(10):
        client.incr("hits", 3)
    for _ in range(5):
        client.incr("sampled", 1, rate=0.1)
    client.gauge("temp", 20)
    client.gauge("temp", 5, delta=True)
    client.gauge("temp", -2, delta=True)
    client.gauge("neg", -4)  # sent as 0|g then -4|g
    for v in range(1, 11):
        client.timing("lat", v)
    for member in "abac":
        client.set("users", member)
    with client.pipeline() as pipe:  # one packet, several lines
        pipe.incr("piped", 2)
        pipe.incr("piped", 5)
    send_raw(listener, *MALFORMED)
    lines = 10 + 5 + 3 + 2 + 10 + 4 + 2 + len(MALFORMED)
    wait_for(lambda: listener.pending_lines >= lines, 5, "the packets")
    got, errors = values(listener)
    assert got["statsd/app.hits/count"] == 30
    assert got["statsd/app.sampled/count"] == pytest.approx(50)
    assert got["statsd/app.piped/count"] == 7
    assert got["statsd/app.temp/value"] == 23
    assert got["statsd/app.neg/value"] == -4
    assert [got[f"statsd/app.lat/{s}"] for s in ("count", "mean", "p90", "upper", "lower")] == [
        10,
        5.5,
        9,
        10,
        1,
    ]
    assert got["statsd/app.users/count"] == 3
    assert got["statsd/_listener/malformed"] == len(MALFORMED)
    assert got["statsd/_listener/lines"] == lines
    assert got["statsd/app.hits/rate"] is not None and got["statsd/app.hits/rate"] > 0
    assert errors and "malformed" in errors[0]
    # The next flush: counters seen before report 0, gauges keep their value, the trouble
    # is over, and timers and sets that got nothing say nothing.
    got, errors = values(listener)
    assert got["statsd/app.hits/count"] == 0 and got["statsd/app.temp/value"] == 23
    assert "statsd/app.lat/mean" not in got and "statsd/app.users/count" not in got
    assert got["statsd/_listener/malformed"] == 0 and errors == ()


def test_the_engine_runs_the_listener_and_stops_it() -> None:
    port = free_port(socket.SOCK_DGRAM)
    config = parse(
        f'[statsd]\nlisten = "127.0.0.1:{port}"\nflush = 0.2\n'
        "[collectors.system]\nenabled = false\n[collectors.sensors]\n"
        "enabled = false\n[collectors.smart]\nenabled = false\n"
    )
    engine = Engine(config, build_collectors(config))
    assert [c.name for c in engine.collectors] == ["statsd"]
    engine.start()
    try:
        client = statsd.StatsClient("127.0.0.1", port)

        def arrived() -> bool:
            client.incr("jobs.done")
            st = engine.snapshot().metrics.get("statsd/jobs.done/count")
            return st is not None and (st.reading.value or 0) > 0

        wait_for(arrived, 10, "the counter in a snapshot")
    finally:
        engine.stop()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))  # stopping the engine let the port go


def test_a_taken_port_is_one_clear_line_and_retried() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        collector = StatsdCollector("127.0.0.1", port)
        batch = collector.poll()
        assert batch.unavailable is not None
        assert f"127.0.0.1:{port}" in batch.unavailable and "in use" in batch.unavailable
    try:
        assert collector.poll().unavailable is None  # free now: the next poll listens
    finally:
        collector.close()


def test_names_are_capped() -> None:
    agg = Aggregator()
    agg.feed("\n".join(f"n{i}:1|c" for i in range(MAX_NAMES + 10)))
    agg.feed("n0:1|c\nnew.gauge:1|g")
    iv = agg.flush()
    assert agg.names() == MAX_NAMES and iv.dropped_names == 11
    assert iv.counters["n0"] == 2


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=80))
def test_the_parser_takes_any_text(line: str) -> None:
    try:
        sample = parse_line(line)
    except ValueError:
        return
    assert sample.name and 0 < sample.rate <= 1


@settings(max_examples=200, deadline=None)
@given(
    st.from_regex(r"[A-Za-z0-9_.\-]{1,20}", fullmatch=True),
    st.floats(-1e9, 1e9, allow_nan=False),
    st.sampled_from(["c", "g", "ms", "h"]),
    st.floats(0.01, 1.0),
)
def test_valid_lines_parse_back(name: str, value: float, code: str, rate: float) -> None:
    sample = parse_line(f"{name}:{value!r}|{code}|@{rate!r}|#env:test")
    delta = code == "g" and repr(value).startswith("-")
    assert sample == Sample(name, sample.kind, value, rate, delta=delta)
