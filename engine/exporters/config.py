"""Provides the settings of the integrations (the Prometheus exporter, the StatsD listener and
the Graphite, InfluxDB and MQTT outputs) and the reader of their TOML tables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from engine.config_reader import Reader

SECTIONS = frozenset({"prometheus", "statsd", "graphite", "influxdb", "mqtt"})
"""The top-level tables read here; each integration is off unless its table is present."""


@dataclass(frozen=True, slots=True)
class Address:
    """A host and a port to listen on or connect to."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class PrometheusConfig:
    """The Prometheus exporter: an HTTP ``/metrics`` endpoint."""

    listen: Address = Address("127.0.0.1", 9877)


@dataclass(frozen=True, slots=True)
class StatsdConfig:
    """The StatsD listener: UDP packets in, readings under ``statsd/<name>/<stat>`` out."""

    listen: Address = Address("127.0.0.1", 8125)
    flush: float = 10.0
    """Seconds between flushes of the aggregated stats into readings."""


@dataclass(frozen=True, slots=True)
class GraphiteConfig:
    """The Graphite output: the plaintext protocol over TCP."""

    server: Address = Address("127.0.0.1", 2003)
    prefix: str = "gongwatch"
    timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class InfluxConfig:
    """The InfluxDB output: v1 line protocol posted to ``/write?db=``."""

    url: str = "http://127.0.0.1:8086"
    database: str = "gongwatch"
    timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class MqttConfig:
    """The MQTT output: state and alert messages, and Home Assistant discovery."""

    server: Address = Address("127.0.0.1", 1883)
    topic: str = "gongwatch"
    discovery: bool = True
    timeout: float = 5.0


@dataclass(frozen=True, slots=True)
class Integrations:
    """Which integrations run, each None unless its table is in the configuration."""

    prometheus: PrometheusConfig | None = None
    statsd: StatsdConfig | None = None
    graphite: GraphiteConfig | None = None
    influxdb: InfluxConfig | None = None
    mqtt: MqttConfig | None = None


def read(reader: Reader, data: dict[str, Any]) -> Integrations:
    """Read the integration tables of a parsed configuration file.

    Args:
        reader: the configuration reader (its typed getters name the key and line in errors).
        data: the whole parsed TOML document.

    Raises:
        ConfigError: a key is unknown or its value wrong.
    """
    return Integrations(
        prometheus=_prometheus(reader, data),
        statsd=_statsd(reader, data),
        graphite=_graphite(reader, data),
        influxdb=_influxdb(reader, data),
        mqtt=_mqtt(reader, data),
    )


def _section(reader: Reader, data: dict[str, Any], name: str, known: set[str]) -> dict[str, Any]:
    table = reader.table(data, name)
    reader.unknown(table, name, known)
    return table


def _address(
    reader: Reader, table: dict[str, Any], path: str, name: str, default: str, schemes: set[str]
) -> Address:
    """Read ``host:port`` or ``scheme://host:port``; the port is required."""
    text = reader.get(table, path, name, str, default)
    parts = urlsplit(text if "://" in text else f"//{text}")
    if parts.scheme and parts.scheme not in schemes:
        wanted = " or ".join(f"{s}://" for s in sorted(schemes))
        raise reader.fail(f"{path}.{name}", f"expected {wanted}host:port, got {text!r}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if not parts.hostname or port is None or port == 0 or parts.path not in ("", "/"):
        raise reader.fail(f"{path}.{name}", f"expected host:port, got {text!r}")
    return Address(parts.hostname, port)


def _prometheus(reader: Reader, data: dict[str, Any]) -> PrometheusConfig | None:
    if "prometheus" not in data:
        return None
    t = _section(reader, data, "prometheus", {"listen"})
    return PrometheusConfig(_address(reader, t, "prometheus", "listen", "127.0.0.1:9877", set()))


def _statsd(reader: Reader, data: dict[str, Any]) -> StatsdConfig | None:
    if "statsd" not in data:
        return None
    t = _section(reader, data, "statsd", {"listen", "flush"})
    return StatsdConfig(
        listen=_address(reader, t, "statsd", "listen", "127.0.0.1:8125", {"udp"}),
        flush=reader.get(t, "statsd", "flush", float, 10.0),
    )


def _graphite(reader: Reader, data: dict[str, Any]) -> GraphiteConfig | None:
    if "graphite" not in data:
        return None
    t = _section(reader, data, "graphite", {"url", "prefix", "timeout"})
    prefix = reader.get(t, "graphite", "prefix", str, "gongwatch")
    if prefix and not re.fullmatch(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*", prefix):
        raise reader.fail("graphite.prefix", "use letters, digits, '_' and '-', parts split by '.'")
    return GraphiteConfig(
        server=_address(reader, t, "graphite", "url", "tcp://127.0.0.1:2003", {"tcp"}),
        prefix=prefix,
        timeout=reader.get(t, "graphite", "timeout", float, 5.0),
    )


def _influxdb(reader: Reader, data: dict[str, Any]) -> InfluxConfig | None:
    if "influxdb" not in data:
        return None
    t = _section(reader, data, "influxdb", {"url", "database", "timeout"})
    url = reader.get(t, "influxdb", "url", str, "http://127.0.0.1:8086").rstrip("/")
    if not re.match(r"https?://[^/]", url):
        raise reader.fail("influxdb.url", f"must start with http:// or https://, got {url!r}")
    database = reader.get(t, "influxdb", "database", str, "gongwatch")
    if not re.fullmatch(r"[\w-]+", database):
        raise reader.fail("influxdb.database", "use letters, digits, '_' or '-' only")
    return InfluxConfig(url, database, reader.get(t, "influxdb", "timeout", float, 5.0))


def _mqtt(reader: Reader, data: dict[str, Any]) -> MqttConfig | None:
    if "mqtt" not in data:
        return None
    # [[mqtt.triggers]] share the broker; engine.config_people reads them.
    t = _section(reader, data, "mqtt", {"url", "topic", "discovery", "timeout", "triggers"})
    topic = reader.get(t, "mqtt", "topic", str, "gongwatch").strip("/")
    if not topic or re.search(r"[+#\s]", topic):
        raise reader.fail("mqtt.topic", "a topic without spaces, '+' or '#'")
    return MqttConfig(
        server=_address(reader, t, "mqtt", "url", "mqtt://127.0.0.1:1883", {"mqtt"}),
        topic=topic,
        discovery=reader.get(t, "mqtt", "discovery", bool, True),
        timeout=reader.get(t, "mqtt", "timeout", float, 5.0),
    )
