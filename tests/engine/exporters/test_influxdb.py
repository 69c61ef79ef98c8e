"""Tests the InfluxDB exporter against a real influxd 1.x, read back with InfluxQL over HTTP;
and that a server which never answers costs the engine nothing and its stop only the timeout."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx

from collectors.base import Batch, Reading
from detectors.base import QUIET
from engine.config_reader import parse
from engine.engine import MetricState
from engine.exporters.influxdb import InfluxExporter, line
from tests.engine.exporters.push_servers import influxd
from tests.engine.exporters.recorded import feed, numeric_points, recorded_batches
from tests.servers import free_port, wait_for


def select(port: int, q: str) -> list[list[object]]:
    r = httpx.get(f"http://127.0.0.1:{port}/query", params={"db": "gw", "q": q, "epoch": "ms"},
                  timeout=5)  # fmt: skip
    body = r.json()
    if "results" not in body or "series" not in body["results"][0]:
        return []  # not there yet (or the database is still missing)
    result = body["results"][0]
    return [row for s in result["series"] for row in s["values"]]


def test_line_protocol_escapes_and_tags() -> None:
    r = Reading("sensors/nct6775-isa-0290/PECI Agent 0", 41.0, "°C", 1.5, high=80.0)
    assert line(MetricState(r, QUIET, "auto")) == (
        r"sensors,chip=nct6775-isa-0290,sensor=PECI\ Agent\ 0,unit=°C "
        "value=41.0,anomaly_score=0.0,anomalous=False 1500"
    )
    r = Reading("disk/sda/smart/5_Reallocated,Sector=Ct", 0.0, "", 2.0)
    assert line(MetricState(r, QUIET, "auto")) == (
        r"disk,device=sda,attribute=smart/5_Reallocated\,Sector\=Ct "
        "value=0.0,anomaly_score=0.0,anomalous=False 2000"
    )


def test_points_reach_influxdb_and_the_database_is_created(tmp_path: Path) -> None:
    batches = recorded_batches()
    want = numeric_points(batches)
    with influxd(tmp_path) as port:
        config = parse(f'[influxdb]\nurl = "http://127.0.0.1:{port}"\ndatabase = "gw"\n')
        engine = feed(config, batches)
        try:
            exporter = engine.exporters.get("influxdb")
            assert isinstance(exporter, InfluxExporter)
            wait_for(lambda: exporter.sent > 0 and exporter.queue_stats()[0] == 0, 30, "the points")
            rows = select(port, "SELECT value FROM sensors WHERE chip='coretemp-isa-0000' "
                          "AND sensor='Core 0'")  # fmt: skip
            expected = want["sensors/coretemp-isa-0000/Core 0"]
            assert {int(t) // 1000: v for t, v in rows} == expected  # type: ignore[call-overload]
            rows = select(port, "SELECT value FROM remote WHERE service='web' "
                          "AND location='london' AND check='time'")  # fmt: skip
            assert [v for _, v in rows] == list(want["remote/web/london/time"].values())
            rows = select(port, "SELECT count(value) FROM system WHERE subsystem='cpu'")
            cpu = [r for b in batches for r in b.readings if r.key.startswith("system/cpu/")]
            assert rows[0][1] == len(cpu)
            assert exporter.rejected == 0 and exporter.dropped == 0
            assert any("created database" in e.text for e in engine.snapshot().events)
        finally:
            engine.stop()


def test_a_server_that_comes_up_later_gets_the_buffered_points(tmp_path: Path) -> None:
    port = free_port()
    batches = recorded_batches()
    config = parse(f'[influxdb]\nurl = "http://127.0.0.1:{port}"\ndatabase = "gw"\n')
    engine = feed(config, batches)
    try:
        wait_for(lambda: any("cannot send" in e.text for e in engine.snapshot().events), 10,
                 "the exporter to notice the server is away")  # fmt: skip
        with influxd(tmp_path, port):
            want = [(round(r.time * 1000), r.value) for b in batches for r in b.readings
                    if r.key == "system/load/1m"]  # fmt: skip
            q = "SELECT value FROM system WHERE subsystem='load' AND metric='1m'"
            wait_for(lambda: select(port, q) == [list(p) for p in want], 60, "the buffered points")
    finally:
        engine.stop()


def test_a_server_that_never_answers_costs_only_its_timeout() -> None:
    with socket.socket() as hole:  # accepts connections (the backlog) and never answers
        hole.bind(("127.0.0.1", 0))
        hole.listen(8)
        port = hole.getsockname()[1]
        config = parse(f'[influxdb]\nurl = "http://127.0.0.1:{port}"\ntimeout = 1.0\n')
        batches = recorded_batches()
        start = time.monotonic()
        engine = feed(config, batches)
        fed = time.monotonic() - start
        time.sleep(0.3)  # the sender is now waiting on the silent server
        start = time.monotonic()
        engine.stop()
        stopped = time.monotonic() - start
    assert fed < 5.0  # ingesting never waited for the server
    assert stopped < 1.0 + 1.5
    engine.ingest(Batch("late", (Reading("x/y", 1.0),)))  # a stopped exporter takes nothing
