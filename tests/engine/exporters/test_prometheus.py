"""Tests the Prometheus exporter against a real Prometheus server scraping it."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from collectors.base import Reading
from collectors.replay import ReplayCollector, parse_line
from engine.alerts import AlertManager
from engine.config_reader import parse
from engine.engine import Engine
from engine.exporters.prometheus import PrometheusExporter
from tests.conftest import require_tool
from tests.servers import free_port, server, wait_for

DATA = Path(__file__).parents[2] / "data"
DASHBOARD = Path(__file__).parents[3] / "contrib" / "grafana-gongwatch.json"
RECORDINGS = [DATA / "stand_in_readings.jsonl", DATA / "system_readings.jsonl"]


def recorded_last() -> dict[str, Reading]:
    """The last reading of every key in the recordings (``gongwatch once --json`` lines)."""
    out = {}
    for path in RECORDINGS:
        for line in path.read_text().splitlines():
            if line.strip() and '"key"' in line:
                r = parse_line(line)
                out[r.key] = r
    return out


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, str]]:
    """An engine fed the recordings, its exporter scraped every second by a real Prometheus."""
    binary = require_tool("prometheus")
    tmp = tmp_path_factory.mktemp("prometheus")
    port, prom_port = free_port(), free_port()
    config = parse(
        f'[prometheus]\nlisten = "127.0.0.1:{port}"\n'
        '[[alerts]]\nmetrics = "remote/**"\nseverity = "critical"\nactions = ["bell"]\n'
        # A Graphite server that is away, so the exporter queue families have a sample.
        f'[graphite]\nurl = "tcp://127.0.0.1:{free_port()}"\n'
    )
    engine = Engine(config)
    alerts = AlertManager(config, bell=lambda: None, log_path=tmp / "alerts.log")
    alerts.attach(engine)
    engine.start()
    for path in RECORDINGS:
        replay = ReplayCollector(path)
        for _ in range(len(replay)):
            engine.ingest(replay.poll())
    (tmp / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: gongwatch\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
    )
    argv = [
        binary, f"--config.file={tmp / 'prometheus.yml'}",
        f"--storage.tsdb.path={tmp / 'data'}", f"--web.listen-address=127.0.0.1:{prom_port}",
    ]  # fmt: skip
    try:
        with server(argv, tmp / "prometheus.log", prom_port):
            url = f"http://127.0.0.1:{prom_port}"
            wait_for(lambda: len(query(url, 'node_hwmon_temp_celsius{job="gongwatch"}')) > 0,
                     30, "the first scrape")  # fmt: skip
            yield engine, url
    finally:
        engine.stop()
        alerts.close()


def query(url: str, promql: str) -> list[dict[str, object]]:
    """Run an instant query; return its result vector."""
    try:
        r = httpx.get(f"{url}/api/v1/query", params={"query": promql}, timeout=5)
    except httpx.TransportError:
        return []
    body = r.json()
    assert body["status"] == "success", body
    return body["data"]["result"]  # type: ignore[no-any-return]


def series(url: str, name: str, *labels: str) -> dict[tuple[str, ...], float]:
    """Return every series of a metric by the values of ``labels``."""
    out = {}
    for item in query(url, f'{name}{{job="gongwatch"}}'):
        metric = item["metric"]
        assert isinstance(metric, dict)
        out[tuple(metric[k] for k in labels)] = float(item["value"][1])  # type: ignore[index]
    return out


def test_hwmon_sensors_under_node_exporter_names(exported: tuple[Engine, str]) -> None:
    engine, url = exported
    recorded = recorded_last()
    families = {"°C": "temp_celsius", "RPM": "fan_rpm", "V": "in_volts"}
    for unit, suffix in families.items():
        got = series(url, f"node_hwmon_{suffix}", "chip", "sensor")
        want = {}
        for key, st in engine.snapshot().metrics.items():
            if key.startswith("sensors/") and st.reading.unit == unit:
                _, chip, sensor = key.split("/", 2)
                want[(chip, sensor)] = st.reading.value
                assert st.reading.value == recorded[key].value
        assert want and got == pytest.approx(want), unit
    crit = series(url, "node_hwmon_temp_crit_celsius", "chip", "sensor")
    assert crit[("nvme-pci-0100", "Composite")] == recorded["sensors/nvme-pci-0100/Composite"].crit
    fan_min = series(url, "node_hwmon_fan_min_rpm", "chip", "sensor")
    assert fan_min[("nct6775-isa-0290", "fan1")] == 300.0
    volts_max = series(url, "node_hwmon_in_max_volts", "chip", "sensor")
    assert volts_max[("nct6775-isa-0290", "Vcore")] == 1.744


def test_disks_under_smartctl_exporter_names(exported: tuple[Engine, str]) -> None:
    _, url = exported
    recorded = recorded_last()
    temps = series(url, "smartctl_device_temperature", "device", "temperature_type")
    assert temps == {
        ("sda", "current"): recorded["disk/sda/temperature"].value,
        ("nvme0", "current"): recorded["disk/nvme0/temperature"].value,
    }
    assert series(url, "smartctl_device_smart_status", "device") == {
        ("sda",): 1.0,
        ("nvme0",): 1.0,
    }
    attrs = series(url, "smartctl_device_attribute", "device", "attribute_id", "attribute_name",
                   "attribute_value_type")  # fmt: skip
    assert attrs[("sda", "188", "Command_Timeout", "raw")] == 1.0
    assert len(attrs) == 4
    assert series(url, "smartctl_device_percentage_used", "device") == {("nvme0",): 28.0}
    hours = recorded["disk/sda/power_on_hours"].value
    assert hours is not None
    assert series(url, "smartctl_device_power_on_seconds", "device")[("sda",)] == hours * 3600


def test_remote_system_and_anomalies(exported: tuple[Engine, str]) -> None:
    engine, url = exported
    recorded = recorded_last()
    up = series(url, "gongwatch_remote_up", "service", "location")
    assert up[("web", "new-york")] == 0.0 and up[("web", "london")] == 1.0
    assert up[("dead", "local")] == 0.0 and up[("blog", "local")] == 1.0
    rt = series(url, "gongwatch_remote_response_seconds", "service", "location")
    assert rt[("web", "london")] == recorded["remote/web/london/time"].value
    for key, name in (("system/load/1m", "node_load1"),
                      ("system/memory/available", "node_memory_MemAvailable_bytes")):  # fmt: skip
        assert series(url, name) == {(): recorded[key].value}
    cpu = series(url, "gongwatch_cpu_usage_percent", "cpu")
    assert cpu[("total",)] == recorded["system/cpu/total"].value
    other = series(url, "gongwatch_metric", "key")
    assert other[("system/net/rx",)] == recorded["system/net/rx"].value
    scores = series(url, "gongwatch_anomaly_score", "metric")
    states = engine.snapshot().metrics
    assert set(scores) == {(k,) for k in states}
    for (key,), score in scores.items():
        assert math.isclose(score, states[key].verdict.score, rel_tol=1e-9)
    anomalous = series(url, "gongwatch_anomalous", "metric", "severity")
    assert anomalous[("remote/web/new-york/status", "critical")] == 1.0


def test_alert_counts_match_the_alert_manager(exported: tuple[Engine, str]) -> None:
    engine, url = exported
    fired = series(url, "gongwatch_alerts_fired_total", "rule", "action")
    assert fired[("remote/**", "bell")] >= 1
    counts = engine.exporters.alerts.fired_counts()  # type: ignore[union-attr]
    assert fired == {k: float(v) for k, v in counts.items()}


def test_scrape_text_is_valid_exposition(exported: tuple[Engine, str]) -> None:
    engine, _ = exported
    exporter = engine.exporters.get("prometheus")
    assert isinstance(exporter, PrometheusExporter)
    text = httpx.get(f"http://127.0.0.1:{exporter.port}/metrics", timeout=5).text
    assert "# TYPE node_hwmon_temp_celsius gauge" in text
    assert 'sensor="PECI Agent 0"' in text
    targets = json.loads(httpx.get(f"{exported[1]}/api/v1/targets", timeout=5).text)
    (target,) = targets["data"]["activeTargets"]
    assert target["health"] == "up", target["lastError"]


def test_every_grafana_panel_query_has_data(exported: tuple[Engine, str]) -> None:
    _, url = exported
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(exprs) >= 15
    # Range functions need two scrapes in their window; the scrape interval is 1 s.
    wait_for(lambda: len(query(url, "count_over_time(up[1m]) >= 3")) == 1, 30, "three scrapes")
    for expr in exprs:
        promql = expr.replace("$instance", ".*").replace("[1h]", "[1m]").replace("[5m]", "[1m]")
        assert query(url, promql), f"no data for {expr}"
