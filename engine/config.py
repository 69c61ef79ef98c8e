"""Provides the typed configuration and its errors; ``engine.config_reader`` reads it from TOML."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from collectors.base import printable
from engine.config_daemon import DaemonConfig
from engine.exporters.config import Integrations
from engine.history.config import HistoryConfig

COLLECTOR_DEFAULTS: dict[str, float] = {"system": 1.0, "sensors": 5.0, "smart": 300.0}
"""Default poll interval in seconds of each local collector."""


class ConfigError(Exception):
    """A configuration problem a user can fix: says which key, where, and what is wrong."""

    def __init__(self, path: str, key: str, message: str, line: int | None = None) -> None:
        self.path, self.key, self.message, self.line = path, key, message, line
        where = f"{path}:{line}" if line else path
        text = f"{where}: {key}: {message}" if key else f"{where}: {message}"
        # Keys and values are quoted from the file: a newline or an escape in them must not
        # split the error over lines or reach the terminal.
        super().__init__(printable(text))


@dataclass(frozen=True, slots=True)
class CollectorConfig:
    """Settings of one local collector."""

    interval: float
    """Seconds between the end of one poll and the start of the next."""
    enabled: bool = True
    smartctl: str = "smartctl"
    """Path of the smartctl binary (smart collector only)."""
    trust_unset_alarms: bool = False
    """Make a sensor's alarm raised against limits nobody set a warning (sensors only); by
    default it shows as ``alarm, limits not set`` and is not anomalous."""


@dataclass(frozen=True, slots=True)
class ServerDensityConfig:
    """A Server Density-style API to poll for service response times."""

    name: str
    url: str
    token: str | None = field(default=None, repr=False)
    """The API token itself; kept out of repr so it never lands in a log."""
    token_env: str | None = None
    """Name of the environment variable holding the token."""
    interval: float = 60.0
    timeout: float = 10.0
    services: tuple[str, ...] = ()
    """Names or ids of the services to watch; empty means all."""

    def resolve_token(self) -> str | None:
        """Return the token, from the config or from the environment."""
        if self.token:
            return self.token
        return os.environ.get(self.token_env) if self.token_env else None


@dataclass(frozen=True, slots=True)
class HttpCheckConfig:
    """An HTTP check run from this host."""

    name: str
    url: str
    method: str = "GET"
    expect: tuple[int, ...] = (200,)
    timeout: float = 5.0
    slow: float = 0.4
    """Seconds above which the service counts as slow."""
    interval: float = 30.0


@dataclass(frozen=True, slots=True)
class PrometheusSourceConfig:
    """A Prometheus server to read the series of many hosts from (``[[sources.prometheus]]``)."""

    name: str
    url: str
    query: str
    """A PromQL selector, e.g. ``{job="node"}``."""
    interval: float = 15.0
    timeout: float = 5.0
    max_series: int = 2_000
    """Series read per poll at most."""
    backfill: float | None = None
    """Seconds of each series' past read with ``query_range`` when the source starts (None:
    300 intervals, what the detectors need to warm up; 0: none)."""


@dataclass(frozen=True, slots=True)
class DeviceConfig:
    """A serial device (the gong or the map)."""

    port: str | None = None
    baud: int = 9600
    cooldown: float = 5.0
    """Seconds after a strike during which the gong is not struck again."""
    locations: dict[str, str] = field(default_factory=dict)
    """Map only: ``service/location`` (globs allowed) to the LED location name."""


@dataclass(frozen=True, slots=True)
class AlertRule:
    """Fire actions when matching metrics stay anomalous."""

    metrics: str
    """Glob over metric keys (``*`` within a path part, ``**`` across parts)."""
    severity: str = "warning"
    """Least severity that fires: ``warning`` or ``critical``."""
    for_seconds: float = 0.0
    """Seconds anomalous before it fires."""
    actions: tuple[str, ...] = ("bell",)
    """``gong``, ``bell``, ``command``, ``notify:<name>``."""
    command: tuple[str, ...] = ()
    """Argument list run by the ``command`` action (never through a shell)."""
    name: str = ""
    """What ``gongwatch alerts`` and silences call the rule; its metric glob when unset."""
    repeat: float = 0.0
    """Seconds between repeats of its actions while it fires unacknowledged; 0 for never."""

    @property
    def label(self) -> str:
        """The rule's name, or its metric glob when it has none."""
        return self.name or self.metrics


@dataclass(frozen=True, slots=True)
class NotifyTarget:
    """A ``[notify.<name>]`` table: where the ``notify:<name>`` action sends its messages."""

    name: str
    urls: tuple[str, ...] = field(default=(), repr=False)
    """Apprise URLs, one per target; kept out of repr, as they often hold a token."""
    timeout: float = 10.0
    """Seconds one URL may take before it counts as failed."""
    group: float = 30.0
    """Seconds after a message during which further alerts are gathered into one; 0: never."""


@dataclass(frozen=True, slots=True)
class ScheduleEntry:
    """A ``[[schedule]]`` table: strike ahead of the events of a calendar."""

    name: str
    ics: str = field(repr=False)
    """A local ``.ics`` file or an http(s) URL (which may hold a private token)."""
    lead: float = 0.0
    """Seconds before an event's start at which its actions run."""
    match: str = ""
    """A regular expression on the event's title; empty for every event."""
    actions: tuple[str, ...] = ("gong",)
    """``gong``, ``notify:<name>``, or a map command such as ``all slow``."""
    refresh: float = 900.0
    """Seconds between readings of the calendar."""


@dataclass(frozen=True, slots=True)
class MqttTrigger:
    """A ``[[mqtt.triggers]]`` table: a message on a topic runs actions."""

    topic: str
    """An MQTT topic filter (``+`` and ``#`` wildcards allowed)."""
    actions: tuple[str, ...] = ("gong",)
    """``gong``, ``notify:<name>``, or a map command such as ``all down``."""


@dataclass(frozen=True, slots=True)
class MqttInConfig:
    """The broker ``[mqtt] url`` names, and the triggers listening on it."""

    host: str
    port: int = 1883
    triggers: tuple[MqttTrigger, ...] = ()


@dataclass(frozen=True, slots=True)
class SyntheticConfig:
    """Made-up series (``[collectors.synthetic]``), for load tests and demonstrations."""

    series: int = 10
    interval: float = 1.0
    critical_after: float | None = None
    """Seconds after start when the first series goes past its critical limit; None never."""


@dataclass(frozen=True, slots=True)
class Config:
    """The whole configuration."""

    source: str = "<defaults>"
    """Where it was read from."""
    refresh: float = 1.0
    """Seconds between screen refreshes."""
    history: int = 600
    """Points kept per metric in memory."""
    alert_log: str | None = None
    """File every fired alert is appended to; None for the default in the user's state dir."""
    collectors: dict[str, CollectorConfig] = field(
        default_factory=lambda: {n: CollectorConfig(i) for n, i in COLLECTOR_DEFAULTS.items()}
    )
    serverdensity: tuple[ServerDensityConfig, ...] = ()
    http: tuple[HttpCheckConfig, ...] = ()
    prometheus_sources: tuple[PrometheusSourceConfig, ...] = ()
    """Prometheus servers whose hosts are watched."""
    locations: dict[str, tuple[float, float]] = field(default_factory=dict)
    """Extra or overriding (latitude, longitude) of location names for the map."""
    gong: DeviceConfig = field(default_factory=DeviceConfig)
    map: DeviceConfig = field(default_factory=DeviceConfig)
    default_detector: str = "auto"
    detector_rules: tuple[tuple[str, str], ...] = ()
    """(metric glob, detector name) pairs; the first that matches wins."""
    alerts: tuple[AlertRule, ...] = ()
    integrations: Integrations = field(default_factory=Integrations)
    """Prometheus, StatsD, Graphite, InfluxDB and MQTT; each off unless configured."""
    synthetic: SyntheticConfig | None = None
    """The synthetic source; None (the default) for none."""
    daemon_socket: str | None = None
    """``[daemon] socket``: the daemon's Unix socket; None for the runtime directory's."""
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    """The rest of ``[daemon]``: its TCP address, token and name."""
    history_store: HistoryConfig = field(default_factory=HistoryConfig)
    """The ``[history]`` table: the history file and how long each tier keeps points."""
    notify: dict[str, NotifyTarget] = field(default_factory=dict)
    schedules: tuple[ScheduleEntry, ...] = ()
    mqtt_in: MqttInConfig | None = None

    def collector(self, name: str) -> CollectorConfig:
        """Return the settings of a local collector (defaults when the file has none)."""
        return self.collectors.get(name) or CollectorConfig(COLLECTOR_DEFAULTS.get(name, 5.0))

    def detector_for(self, key: str) -> str:
        """Return the name of the detector configured for the metric ``key``."""
        for pattern, name in self.detector_rules:
            if glob_match(pattern, key):
                return name
        return self.default_detector


def glob_match(pattern: str, key: str) -> bool:
    """Match a metric key against a glob: ``*`` stays within one path part, ``**`` spans parts."""
    return _glob_regex(pattern).fullmatch(key) is not None


_GLOB_CACHE: dict[str, re.Pattern[str]] = {}


def _glob_regex(pattern: str) -> re.Pattern[str]:
    rx = _GLOB_CACHE.get(pattern)
    if rx is None:
        parts = re.split(r"(\*\*|\*|\?)", pattern)
        tr = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
        rx = re.compile("".join(tr.get(p, re.escape(p)) for p in parts))
        _GLOB_CACHE[pattern] = rx
    return rx
