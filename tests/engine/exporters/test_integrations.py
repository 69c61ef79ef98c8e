"""Tests the integration tables of the configuration, what the engine does with an exporter
that cannot start, and the push exporters' bounded queue."""

from __future__ import annotations

import socket

import pytest

from collectors.base import Batch, Reading
from engine.config import Config, ConfigError
from engine.config_reader import parse
from engine.engine import Engine
from engine.exporters.config import (
    Address,
    GraphiteConfig,
    InfluxConfig,
    MqttConfig,
    PrometheusConfig,
    StatsdConfig,
)
from engine.exporters.graphite import GraphiteExporter
from tests.servers import free_port, wait_for

DOCUMENTED = """
[prometheus]
listen = "127.0.0.1:9877"
[statsd]
listen = "127.0.0.1:8125"
flush = 10.0
[graphite]
url = "tcp://127.0.0.1:2003"
prefix = "gongwatch"
[influxdb]
url = "http://127.0.0.1:8086"
database = "gongwatch"
[mqtt]
url = "mqtt://127.0.0.1:1883"
topic = "gongwatch"
discovery = true
"""


def test_the_documented_tables_read() -> None:
    i = parse(DOCUMENTED).integrations
    assert i.prometheus == PrometheusConfig(Address("127.0.0.1", 9877))
    assert i.statsd == StatsdConfig(Address("127.0.0.1", 8125), 10.0)
    assert i.graphite == GraphiteConfig(Address("127.0.0.1", 2003), "gongwatch")
    assert i.influxdb == InfluxConfig("http://127.0.0.1:8086", "gongwatch")
    assert i.mqtt == MqttConfig(Address("127.0.0.1", 1883), "gongwatch", True)


def test_everything_is_off_unless_configured() -> None:
    assert parse("").integrations == Config().integrations
    assert Engine(Config()).exporters.items == []
    empty = parse("[prometheus]\n[graphite]\n").integrations
    assert empty.prometheus == PrometheusConfig() and empty.graphite == GraphiteConfig()
    assert empty.statsd is None and empty.mqtt is None


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('[prometheus]\nlisten = "localhost"', "prometheus.listen", "host:port"),
        ('[prometheus]\nlisten = "127.0.0.1:99999"', "prometheus.listen", "host:port"),
        ("[prometheus]\nport = 1", "prometheus.port", "unknown key"),
        ('[statsd]\nlisten = "tcp://127.0.0.1:8125"', "statsd.listen", "udp://"),
        ("[statsd]\nflush = 0", "statsd.flush", "between 0.1 and 3,600 seconds"),
        ('[graphite]\nurl = "http://127.0.0.1:2003"', "graphite.url", "tcp://"),
        ('[graphite]\nprefix = "a b"', "graphite.prefix", "letters"),
        ('[influxdb]\nurl = "127.0.0.1:8086"', "influxdb.url", "http://"),
        ('[influxdb]\ndatabase = "a;b"', "influxdb.database", "letters"),
        ('[mqtt]\ntopic = "a/#"', "mqtt.topic", "'#'"),
        ('[mqtt]\ndiscovery = "yes"', "mqtt.discovery", "expected bool"),
        ("prometheus = 1", "prometheus", "expected a table"),
    ],
)
def test_mistakes_name_the_key_and_line(text: str, key: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(text, "x.toml")
    assert err.value.key == key and words in err.value.message
    assert err.value.line is not None


def test_an_exporter_that_cannot_start_is_one_line_and_the_engine_runs() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        engine = Engine(parse(f'[prometheus]\nlisten = "127.0.0.1:{port}"'))
        engine.start()
        try:
            engine.ingest(Batch("test", (Reading("a/b", 1.0),)))
            (event,) = [e for e in engine.snapshot().events if e.source == "prometheus"]
            assert event.level == "error" and "cannot start" in event.text
            assert "a/b" in engine.snapshot().metrics
        finally:
            engine.stop()


def test_a_full_queue_drops_the_oldest_and_counts_them() -> None:
    reports: list[tuple[str, str, str]] = []
    config = GraphiteConfig(Address("127.0.0.1", free_port()), "gw", timeout=0.5)
    exporter = GraphiteExporter(config, lambda *a: reports.append(a))
    exporter.capacity = 10
    exporter.start()
    try:
        exporter.enqueue(f"p{i}".encode() for i in range(25))
        wait_for(lambda: len(reports) == 1, 5, "the failed send")
        assert exporter.queue_stats() == (10, 15)
        assert list(exporter._queue) == [f"p{i}".encode() for i in range(15, 25)]
        assert reports[0][1] == "error" and "cannot send to tcp://127.0.0.1" in reports[0][2]
    finally:
        exporter.stop()
