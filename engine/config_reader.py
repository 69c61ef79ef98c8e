"""Provides ``load`` and ``parse``, which read the configuration file, and the reader that turns
its TOML tables into the typed configuration, checking every key and naming the key and its
line in every error."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from engine import config_people as people
from engine.config import (
    COLLECTOR_DEFAULTS,
    AlertRule,
    CollectorConfig,
    Config,
    ConfigError,
    DeviceConfig,
    HttpCheckConfig,
    NotifyTarget,
    PrometheusSourceConfig,
    ServerDensityConfig,
    SyntheticConfig,
)
from engine.config_daemon import read as read_daemon
from engine.exporters import config as integrations
from engine.history.config import HistoryConfig, HistoryConfigError

T = TypeVar("T")

RANGES: dict[str, tuple[float, float, str]] = {
    "refresh": (0.1, 60.0, "seconds"),
    "history": (10, 100_000, "points"),
    "interval": (0.1, 86_400.0, "seconds"),
    "timeout": (0.1, 300.0, "seconds"),
    "slow": (0.001, 300.0, "seconds"),
    "cooldown": (0.0, 3_600.0, "seconds"),
    "for": (0.0, 604_800.0, "seconds"),
    "baud": (1_200, 115_200, ""),
    "flush": (0.1, 3_600.0, "seconds"),
    "series": (1, 100_000, ""),
    "critical_after": (0.1, 86_400.0, "seconds"),
    "max_series": (1, 100_000, "series"),
}
"""The range of every number of the configuration, by key name: what a person could mean. An
interval of 1e-9 s is a busy loop, of 1e300 s an overflow; a history of 10^12 points cannot be
allocated; NaN compares false with everything and so passes any check written as a refusal."""

_OWN_KEYS = {"smart": {"smartctl"}, "sensors": {"trust_unset_alarms"}}
"""Keys that only one collector's table takes, besides ``interval`` and ``enabled``."""


class Reader:
    """Turns the TOML tables into typed config, remembering where each key is for errors."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(self.source, key, message, self.line_of(key))

    def line_of(self, key: str) -> int | None:
        """Best effort: the line where the last part of a dotted key is set."""
        parts = [p for p in re.split(r"\.|\[\d+\]", key) if p]
        if not parts:
            return None
        leaf = parts[-1].strip('"')
        header = ".".join(parts[:-1])
        start = 0
        for i, line in enumerate(self.lines):
            s = line.strip()
            if s.startswith("[") and s.strip("[] ").startswith(header.split(".")[0]):
                start = i if header else start
        for i in range(start, len(self.lines)):
            s = self.lines[i].strip()
            if re.match(rf'"?{re.escape(leaf)}"?\s*=', s) or s.strip("[] ") == key:
                return i + 1
        return None

    def get(self, table: dict[str, Any], path: str, name: str, kind: type[T], default: T) -> T:
        """Return ``table[name]`` checked: of ``kind``; a number within ``RANGES[name]`` (so
        never NaN or infinite); a string without NUL, which no path or command can hold."""
        value = table.get(name, default)
        key = f"{path}.{name}" if path else name
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise self.fail(key, f"expected {kind.__name__}, got {type(value).__name__}")
        if (problem := _problem(name, value)) is not None:
            raise self.fail(key, problem)
        return value

    def table(self, data: dict[str, Any], path: str) -> dict[str, Any]:
        value = data.get(path.rsplit(".", 1)[-1], {})
        if not isinstance(value, dict):
            raise self.fail(path, "expected a table")
        return value

    def array_of_tables(self, data: dict[str, Any], name: str, path: str) -> list[dict[str, Any]]:
        value = data.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise self.fail(path, f"expected [[{path}]] tables")
        return value

    def strings(self, table: dict[str, Any], path: str, name: str) -> tuple[str, ...]:
        value = table.get(name, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{path}.{name}", "expected a string or a list of strings")
        if any("\x00" in v for v in value):
            raise self.fail(f"{path}.{name}", "must not hold a NUL character")
        return tuple(value)

    def unknown(self, table: dict[str, Any], path: str, known: set[str]) -> None:
        for k in table:
            if k not in known:
                raise self.fail(f"{path}.{k}" if path else k, "unknown key")

    def config(self, data: dict[str, Any]) -> Config:
        sections = {"general", "collectors", "remote", "sources", "devices", "detectors"}
        sections |= {"alerts", "history", "daemon"}
        sections |= {"notify", "schedule"}
        self.unknown(data, "", sections | integrations.SECTIONS)
        general = self.table(data, "general")
        self.unknown(general, "general", {"refresh", "history", "alert_log"})
        history = self.get(general, "general", "history", int, 600)
        alert_log = self.get(general, "general", "alert_log", str, "") or None
        remote = self.table(data, "remote")
        self.unknown(remote, "remote", {"serverdensity", "http", "locations"})
        devices = self.table(data, "devices")
        self.unknown(devices, "devices", {"gong", "map"})
        default_det, rules = self.detectors(self.table(data, "detectors"))
        daemon = self.table(data, "daemon")
        daemon_config = read_daemon(self, daemon)
        collectors = self.table(data, "collectors")
        sources = self.table(data, "sources")
        self.unknown(sources, "sources", {"prometheus"})
        notify = people.notify_targets(self, data)
        return Config(
            source=self.source,
            refresh=self.get(general, "general", "refresh", float, 1.0),
            history=history,
            alert_log=alert_log,
            collectors=self.collectors({k: v for k, v in collectors.items() if k != "synthetic"}),
            synthetic=self.synthetic(collectors),
            serverdensity=tuple(self.serverdensity(remote)),
            http=tuple(self.http(remote)),
            prometheus_sources=tuple(self.prometheus(sources)),
            locations=self.locations(self.table(remote, "remote.locations")),
            gong=self.device(self.table(devices, "devices.gong"), "devices.gong"),
            map=self.device(self.table(devices, "devices.map"), "devices.map"),
            default_detector=default_det,
            detector_rules=rules,
            alerts=tuple(self.alerts(data, notify)),
            notify=notify,
            schedules=people.schedules(self, data, notify),
            integrations=integrations.read(self, data),
            daemon_socket=self.get(daemon, "daemon", "socket", str, "") or None,
            daemon=daemon_config,
            history_store=self.history_store(self.table(data, "history")),
            mqtt_in=people.mqtt_in(self, data, notify),
        )

    def synthetic(self, collectors: dict[str, Any]) -> SyntheticConfig | None:
        if "synthetic" not in collectors:
            return None
        path = "collectors.synthetic"
        sub = self.table(collectors, path)
        self.unknown(sub, path, {"series", "interval", "critical_after"})
        after = None
        if "critical_after" in sub:
            after = self.get(sub, path, "critical_after", float, 1.0)
        series = self.get(sub, path, "series", int, 10)
        return SyntheticConfig(series, self.get(sub, path, "interval", float, 1.0), after)

    def history_store(self, table: dict[str, Any]) -> HistoryConfig:
        try:
            return HistoryConfig.from_table(table)
        except HistoryConfigError as error:
            raise self.fail(error.key, error.reason) from None

    def collectors(self, table: dict[str, Any]) -> dict[str, CollectorConfig]:
        self.unknown(table, "collectors", set(COLLECTOR_DEFAULTS))
        out = {}
        for name, default in COLLECTOR_DEFAULTS.items():
            path = f"collectors.{name}"
            sub = self.table(table, path)
            self.unknown(sub, path, {"interval", "enabled"} | _OWN_KEYS.get(name, set()))
            out[name] = CollectorConfig(
                interval=self.get(sub, path, "interval", float, default),
                enabled=self.get(sub, path, "enabled", bool, True),
                smartctl=self.get(sub, path, "smartctl", str, "smartctl"),
                trust_unset_alarms=self.get(sub, path, "trust_unset_alarms", bool, False),
            )
        return out

    def named(self, items: list[dict[str, Any]], path: str, known: set[str]) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            where = f"{path}[{i}]"
            self.unknown(item, where, known)
            for req in ("name", "url"):
                if not isinstance(item.get(req), str) or not item[req]:
                    raise self.fail(f"{where}.{req}", "required, a non-empty string")
            if not re.fullmatch(r"[\w.-]+", item["name"]):
                raise self.fail(f"{where}.name", "use letters, digits, '.', '_' or '-' only")
            if item["name"] in seen:
                raise self.fail(f"{where}.name", f"duplicate name {item['name']!r}")
            if not re.match(r"https?://", item["url"]):
                raise self.fail(f"{where}.url", "must start with http:// or https://")
            seen.add(item["name"])

    def serverdensity(self, remote: dict[str, Any]) -> list[ServerDensityConfig]:
        path = "remote.serverdensity"
        items = self.array_of_tables(remote, "serverdensity", path)
        known = {"name", "url", "token", "token_env", "interval", "timeout", "services"}
        self.named(items, path, known)
        out = []
        for i, it in enumerate(items):
            p = f"{path}[{i}]"
            out.append(
                ServerDensityConfig(
                    name=it["name"],
                    url=it["url"].rstrip("/"),
                    token=self.get(it, p, "token", str, "") or None,
                    token_env=self.get(it, p, "token_env", str, "") or None,
                    interval=self.get(it, p, "interval", float, 60.0),
                    timeout=self.get(it, p, "timeout", float, 10.0),
                    services=self.strings(it, p, "services"),
                )
            )
        return out

    def http(self, remote: dict[str, Any]) -> list[HttpCheckConfig]:
        path = "remote.http"
        items = self.array_of_tables(remote, "http", path)
        known = {"name", "url", "method", "expect", "timeout", "slow", "interval"}
        self.named(items, path, known)
        out = []
        for i, it in enumerate(items):
            p = f"{path}[{i}]"
            expect = it.get("expect", [200])
            if isinstance(expect, int):
                expect = [expect]
            if not isinstance(expect, list) or not all(
                isinstance(c, int) and 100 <= c <= 599 for c in expect
            ):
                raise self.fail(f"{p}.expect", "expected a list of HTTP status codes (100-599)")
            method = self.get(it, p, "method", str, "GET").upper()
            if method not in {"GET", "HEAD", "POST", "PUT", "OPTIONS"}:
                raise self.fail(f"{p}.method", f"unsupported method {method!r}")
            out.append(
                HttpCheckConfig(
                    name=it["name"],
                    url=it["url"],
                    method=method,
                    expect=tuple(expect),
                    timeout=self.get(it, p, "timeout", float, 5.0),
                    slow=self.get(it, p, "slow", float, 0.4),
                    interval=self.get(it, p, "interval", float, 30.0),
                )
            )
        return out

    def prometheus(self, sources: dict[str, Any]) -> list[PrometheusSourceConfig]:
        path = "sources.prometheus"
        items = self.array_of_tables(sources, "prometheus", path)
        known = {"name", "url", "query", "interval", "timeout", "max_series", "backfill"}
        self.named(items, path, known)
        out = []
        for i, it in enumerate(items):
            p = f"{path}[{i}]"
            query = self.get(it, p, "query", str, "").strip()
            if not query:
                raise self.fail(f"{p}.query", 'required, a PromQL selector like {job="node"}')
            out.append(
                PrometheusSourceConfig(
                    name=it["name"],
                    url=it["url"].rstrip("/"),
                    query=query,
                    interval=self.get(it, p, "interval", float, 15.0),
                    timeout=self.get(it, p, "timeout", float, 5.0),
                    max_series=self.get(it, p, "max_series", int, 2_000),
                    backfill=(
                        people.duration(self, it, p, "backfill", 0.0) if "backfill" in it else None
                    ),
                )
            )
        return out

    def locations(self, table: dict[str, Any]) -> dict[str, tuple[float, float]]:
        out = {}
        for name, value in table.items():
            ok = isinstance(value, list) and len(value) == 2
            ok = ok and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
            if not ok or not (-90 <= value[0] <= 90 and -180 <= value[1] <= 180):
                raise self.fail(f"remote.locations.{name}", "expected [latitude, longitude]")
            out[name.lower()] = (float(value[0]), float(value[1]))
        return out

    def device(self, table: dict[str, Any], path: str) -> DeviceConfig:
        known = {"port", "baud", "cooldown"} | ({"locations"} if path.endswith("map") else set())
        self.unknown(table, path, known)
        locs = self.table(table, f"{path}.locations")
        for k, v in locs.items():
            if not isinstance(v, str) or not re.fullmatch(r"[a-z0-9_-]+", v):
                raise self.fail(f"{path}.locations.{k}", "expected an LED location name [a-z0-9_-]")
        baud = self.get(table, path, "baud", int, 9600)
        if baud not in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200):
            raise self.fail(f"{path}.baud", f"unsupported baud rate {baud}")
        return DeviceConfig(
            port=self.get(table, path, "port", str, "") or None,
            baud=baud,
            cooldown=self.get(table, path, "cooldown", float, 5.0),
            locations=dict(locs),
        )

    def detectors(self, table: dict[str, Any]) -> tuple[str, tuple[tuple[str, str], ...]]:
        self.unknown(table, "detectors", {"default", "metrics"})
        check = _detector_checker()
        default = self.get(table, "detectors", "default", str, "auto")
        if (err := check(default)) is not None:
            raise self.fail("detectors.default", err)
        rules = []
        for glob, name in self.table(table, "detectors.metrics").items():
            if not isinstance(name, str):
                raise self.fail(f"detectors.metrics.{glob}", "expected a detector name")
            if (err := check(name)) is not None:
                raise self.fail(f"detectors.metrics.{glob}", err)
            rules.append((glob, name))
        return default, tuple(rules)

    def alerts(self, data: dict[str, Any], notify: dict[str, NotifyTarget]) -> list[AlertRule]:
        out = []
        known = {"metrics", "severity", "for", "actions", "command", "name", "repeat"}
        for i, it in enumerate(self.array_of_tables(data, "alerts", "alerts")):
            p = f"alerts[{i}]"
            self.unknown(it, p, known)
            metrics = self.get(it, p, "metrics", str, "")
            if not metrics:
                raise self.fail(f"{p}.metrics", "required, a metric glob")
            severity = self.get(it, p, "severity", str, "warning")
            if severity not in ("warning", "critical"):
                raise self.fail(f"{p}.severity", "expected 'warning' or 'critical'")
            actions = self.strings(it, p, "actions") or ("bell",)
            for a in actions:
                if a not in ("gong", "bell", "command") and not a.startswith("notify:"):
                    raise self.fail(
                        f"{p}.actions", f"unknown action {a!r} (gong, bell, command, notify:NAME)"
                    )
                people.check_action(self, f"{p}.actions", a, notify)
            command = self.strings(it, p, "command")
            if "command" in actions and not command:
                raise self.fail(f"{p}.command", "the command action needs an argument list")
            out.append(
                AlertRule(
                    metrics=metrics,
                    severity=severity,
                    for_seconds=self.get(it, p, "for", float, 0.0),
                    actions=actions,
                    command=command,
                    name=self.get(it, p, "name", str, ""),
                    repeat=people.duration(self, it, p, "repeat", 0.0),
                )
            )
        return out


def _detector_checker() -> Callable[[str], str | None]:
    import detectors

    def check(name: str) -> str | None:
        # ``info`` loads the one detector named: the others' code stays unloaded.
        try:
            kind = detectors.info(name).kind
        except KeyError:
            streaming = ", ".join(detectors.names("streaming"))
            return f"unknown detector {name!r} (choose from {streaming})"
        if kind == "batch":
            return f"{name!r} is a batch detector; live metrics need a streaming one"
        return None

    return check


def default_path() -> Path:
    """Return the user's config file path (``$XDG_CONFIG_HOME/gongwatch/config.toml``)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(Path.home(), ".config")
    return Path(base) / "gongwatch" / "config.toml"


def load(path: str | os.PathLike[str] | None = None) -> Config:
    """Read the configuration.

    Args:
        path: an explicit file (``--config``); it must exist. None means the user's config file
            if there is one, else the defaults.

    Raises:
        ConfigError: the file is missing, unreadable, not TOML, or a key is wrong.
    """
    if path is None:
        p = default_path()
        if not p.is_file():
            return Config()
    else:
        p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(p), "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(p), "", f"cannot read: {exc}") from None
    return parse(text, str(p))


def parse(text: str, source: str = "<string>") -> Config:
    """Parse TOML text into a Config (see ``load``)."""
    try:
        data = tomllib.loads(text)
        return Reader(text, source).config(data)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"\(at line (\d+)", str(exc))
        line = int(m.group(1)) if m else None
        raise ConfigError(source, "", f"not valid TOML: {exc}", line) from None
    except RecursionError:  # arrays or tables thousands deep: the parser recurses per level
        raise ConfigError(source, "", "not valid here: values nested too deeply") from None


def _problem(name: str, value: object) -> str | None:
    """What is wrong with a value of the right type, or None (see ``RANGES``)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        low, high, unit = RANGES[name]
        if not low <= value <= high:  # False for NaN too
            got = _number(value) if isinstance(value, int) else f"{value:g}"
            unit = f" {unit}" if unit else ""
            return f"must be between {_number(low)} and {_number(high)}{unit}, got {got}"
    if isinstance(value, str) and "\x00" in value:
        return "must not hold a NUL character"
    return None


def _number(value: float) -> str:
    """A bound as people write it: ``86,400`` rather than ``86400.0``."""
    return f"{int(value):,}" if value == int(value) else f"{value:g}"
