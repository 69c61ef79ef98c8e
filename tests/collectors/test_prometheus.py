"""Tests the Prometheus collector against Debian's Prometheus scraping a real node exporter and a
target where nothing listens (a host that is down)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import pytest

from collectors.base import Batch, Reading, Status
from collectors.prometheus import PrometheusCollector, series_key, unit_of, up_query
from engine import Engine
from engine.config import Config
from tests.prometheus_servers import (
    Lab,
    NodeExporter,
    Prometheus,
    free_port,
    running_lab,
    wait_for,
)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with running_lab(tmp_path_factory.mktemp("prometheus")) as running:
        yield running


def by_key(batch: Batch) -> dict[str, Reading]:
    return {r.key: r for r in batch.readings}


def test_reads_the_node_exporters_series_through_prometheus(lab: Lab) -> None:
    batch = lab.collector().poll()
    assert batch.errors == () and batch.unavailable is None
    readings = by_key(batch)
    host = f"hosts/{lab.node.address}"
    load = readings[f"{host}/node_load1"]
    assert (
        load.value is not None
        and math.isfinite(load.value)
        and load.value >= 0
        and load.status is Status.OK
    )
    memory = readings[f"{host}/node_memory_MemTotal_bytes"]
    assert memory.unit == "B" and (memory.value or 0) > 1e6
    # A label that tells series apart is part of the key, job and instance are not.
    assert any(k.startswith(f"{host}/node_time_zone_offset_seconds/time_zone=") for k in readings)
    assert readings[f"{host}/node_time_seconds"].unit == "s"
    up = readings[f"{host}/up"]
    assert up.value == 1.0 and up.status is Status.OK and up.text == "up"


def test_a_target_prometheus_cannot_scrape_is_down_and_critical(lab: Lab) -> None:
    collector = lab.collector()
    engine = Engine(Config(), [collector])
    engine.ingest(engine.poll_one(collector))
    state = engine.snapshot().metrics[f"hosts/{lab.dead}/up"]
    assert state.reading.value == 0.0 and state.reading.text == "down"
    assert state.reading.status is Status.CRITICAL
    assert state.verdict.anomalous and state.verdict.severity == "critical"
    assert not any(k.startswith(f"hosts/{lab.dead}/node_") for k in engine.snapshot().metrics)


def test_a_bad_query_says_what_prometheus_said(lab: Lab) -> None:
    batch = lab.collector('{job="node"').poll()
    assert len(batch.errors) == 1
    line = batch.errors[0]
    assert line.startswith('query {job="node": bad_data: ') and "parse error" in line
    assert "\n" not in line


def test_an_unreachable_server_is_one_line_and_no_readings() -> None:
    port = free_port()
    collector = PrometheusCollector("gone", f"http://127.0.0.1:{port}", "up", timeout=2.0)
    batch = collector.poll()
    assert batch.readings == ()
    assert len(batch.errors) == 1 and batch.errors[0].startswith("query up: cannot connect")


def test_a_server_that_is_not_prometheus_says_so(lab: Lab) -> None:
    # The node exporter answers /api/v1/query with its HTML landing page.
    collector = PrometheusCollector("wrong", f"http://{lab.node.address}", '{job="node"}')
    batch = collector.poll()
    assert batch.readings == ()
    assert batch.errors[0] == (
        'query {job="node"}: not a Prometheus API answer (HTTP 200, not JSON)'
    )


def test_a_query_that_is_not_a_vector_is_refused(lab: Lab) -> None:
    batch = lab.collector("1 + 1").poll()
    assert batch.errors == ("query 1 + 1: the query gives a scalar, not an instant vector",)


def test_the_series_cap_keeps_the_same_series_and_says_it_cut(lab: Lab) -> None:
    first = lab.collector(max_series=3).poll()
    second = lab.collector(max_series=3).poll()
    series = [r.key for r in first.readings if not r.key.endswith("/up")]
    assert len(series) == 3
    assert series == [r.key for r in second.readings if not r.key.endswith("/up")]
    total = len(lab.prometheus.query('{job="node"}')) - len(lab.prometheus.query('up{job="node"}'))
    assert first.errors == (
        f"{total:,} series, read the first 3 (raise max_series or narrow the query)",
    )
    # The targets' up is read whatever the cap.
    assert {r.key for r in first.readings if r.key.endswith("/up")} == {
        f"hosts/{lab.node.address}/up",
        f"hosts/{lab.dead}/up",
    }


def test_keys_are_stable_whatever_the_order_of_labels() -> None:
    a = {"__name__": "node_hwmon_temp_celsius", "instance": "web1:9100", "job": "node"}
    a |= {"sensor": "temp1", "chip": "platform_coretemp_0"}
    b = dict(reversed(list(a.items())))
    expected = "hosts/web1:9100/node_hwmon_temp_celsius/chip=platform_coretemp_0,sensor=temp1"
    assert series_key(a) == series_key(b) == expected
    assert series_key({"__name__": "node_load1", "instance": "web1:9100"}) == (
        "hosts/web1:9100/node_load1"
    )
    assert unit_of("node_hwmon_temp_celsius") == "°C"
    assert unit_of("node_network_receive_bytes_total") == "B"


def test_up_is_asked_for_the_selectors_jobs() -> None:
    assert up_query('{job="node"}') == 'up{job="node"}'
    assert up_query('node_load1{job=~"node|edge", instance!="x"}') == 'up{job=~"node|edge"}'
    assert up_query("node_load1") == "up"


def test_killing_the_node_exporter_makes_its_host_go_down(tmp_path: Path) -> None:
    node = NodeExporter(tmp_path)
    prometheus = None
    try:
        prometheus = Prometheus(tmp_path, [node.address])
        prometheus.wait_until_scraped({node.address: 1.0})
        collector = PrometheusCollector("lab", prometheus.url, '{job="node"}')
        key = f"hosts/{node.address}/up"
        first = collector.poll()
        assert by_key(first)[key].text == "up" and first.gone == ()
        # Prometheus' own series of each scrape (scrape_duration_seconds...) stay while it is down.
        series = {r.key for r in first.readings if r.key != key and "/scrape_" not in r.key}
        node.stop()
        polls = 0
        gone: set[str] = set()

        def down() -> bool | None:
            nonlocal polls
            polls += 1
            batch = collector.poll()
            gone.update(batch.gone)
            reading = by_key(batch).get(key)
            return True if reading is not None and reading.status is Status.CRITICAL else None

        wait_for("the host goes down", down, 15.0)
        assert polls >= 1
        # Its series are gone, not frozen at their last values.
        wait_for("its series are gone", lambda: gone.update(collector.poll().gone) or (
            gone == series or None), 10.0)  # fmt: skip
        assert series and not {r.key for r in collector.poll().readings} & series
        # Prometheus itself goes away: what it said of its targets is no longer known.
        prometheus.stop()
        batch = collector.poll()
        assert batch.errors[0].startswith('query {job="node"}: cannot connect')
        assert [(r.key, r.value, r.status, r.text) for r in batch.readings] == [
            (key, None, Status.UNKNOWN, "unknown")
        ]
    finally:
        if prometheus is not None:
            prometheus.stop()
        node.stop()
