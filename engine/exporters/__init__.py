"""Provides ``Exporters``: the outputs a configuration asks for (Prometheus, Graphite,
InfluxDB, MQTT), owned by the engine and started and stopped with it.

Each exporter's library is imported only when its table is in the configuration, so a
monitor that exports nothing loads none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from engine.alerts import AlertRecord
    from engine.engine import Engine
    from engine.exporters.config import Integrations


NAMES = ("graphite", "influxdb", "mqtt", "prometheus")
"""The exporters, in the order they are built (the push ones observe the batches)."""


class Exporter(Protocol):
    """One output: started with the engine, stopped with it."""

    name: str

    def start(self) -> None:
        """Begin (bind, connect, start a thread); may raise OSError for a taken address."""
        ...

    def stop(self) -> None:
        """End what ``start`` began, within the exporter's own timeout."""
        ...


class AlertSource(Protocol):
    """What the exporters need of the alert manager."""

    def fired_counts(self) -> Mapping[tuple[str, str], int]:
        """Return how many times each (rule, action) fired."""
        ...

    def add_listener(self, listener: Callable[[AlertRecord], None]) -> None:
        """Tell ``listener`` of every new or finished alert record."""
        ...


class Exporters:
    """The configured exporters of one engine, rebuilt one by one when the configuration
    changes."""

    def __init__(self, engine: Engine) -> None:
        """Build (without starting) the exporters ``engine.config`` asks for.

        Args:
            engine: whose snapshots and batches they export.
        """
        self.engine = engine
        self.alerts: AlertSource | None = None
        self.items: list[Exporter] = []
        self.settings: dict[str, object] = {}
        """The settings each exporter was built from, by name."""
        self.running = False
        cfg = engine.config.integrations
        for name in NAMES:
            settings = getattr(cfg, name)
            if settings is not None:
                self._add(self._build(name, settings), settings)

    def _build(self, name: str, settings: Any) -> Exporter:
        """Build one exporter (its library imported only now)."""
        engine = self.engine
        if name == "graphite":
            from engine.exporters.graphite import GraphiteExporter

            return GraphiteExporter(settings, engine.report)
        if name == "influxdb":
            from engine.exporters.influxdb import InfluxExporter

            return InfluxExporter(settings, engine.report)
        if name == "mqtt":
            from engine.exporters.mqtt import MqttExporter

            return MqttExporter(settings, engine.report)
        from engine.exporters.prometheus import PrometheusExporter, SnapshotCollector

        collector = SnapshotCollector(engine.snapshot, self._alert_counts, self.queues)
        return PrometheusExporter(settings, collector)

    def _add(self, item: Exporter, settings: object) -> None:
        self.items.append(item)
        self.settings[item.name] = settings
        observe = getattr(item, "observe", None)
        if observe is not None:
            self.engine.subscribe(observe)
        on_alert = getattr(item, "on_alert", None)
        if on_alert is not None and self.alerts is not None:
            self.alerts.add_listener(on_alert)

    def _remove(self, item: Exporter) -> None:
        self.items.remove(item)
        self.settings.pop(item.name, None)
        observe = getattr(item, "observe", None)
        if observe is not None:
            self.engine.unsubscribe(observe)
        on_alert = getattr(item, "on_alert", None)
        remove = getattr(self.alerts, "remove_listener", None)
        if on_alert is not None and remove is not None:
            remove(on_alert)

    def reconfigure(self, cfg: Integrations) -> None:
        """Follow new settings: an exporter whose table is gone is stopped, a new one started,
        a changed one replaced; one left as it was keeps running untouched.

        A replacement is started before the one it replaces is stopped (a new port is bound
        while the old one still serves): when it cannot start, the running one is kept and
        the engine says so in one line.
        """
        for name in NAMES:
            new, before = getattr(cfg, name), self.settings.get(name)
            if new == before:
                continue
            old = self.get(name)
            item = self._build(name, new) if new is not None else None
            if item is not None and self.running and not self._try_start(item, old):
                continue
            if old is not None:
                self._remove(old)
                old.stop()
            if item is not None:
                self._add(item, new)
            verb = "stopped" if item is None else "started" if old is None else "replaced"
            self.engine.report(name, "info", f"exporter {verb}: {_where(new or before)}")

    def _try_start(self, item: Exporter, old: Exporter | None) -> bool:
        """Start a new exporter; on failure, say so (and that the old one keeps running)."""
        try:
            item.start()
        except OSError as exc:
            item.stop()
            keep = "; keeping the running one" if old is not None else ""
            why = exc.strerror or str(exc)
            self.engine.report(item.name, "error", f"cannot start: {why}{keep}")
            return False
        return True

    def get(self, name: str) -> Exporter | None:
        """Return the exporter called ``name`` (``prometheus``, ``graphite`` ...), if configured."""
        return next((e for e in self.items if e.name == name), None)

    def start(self) -> None:
        """Start every exporter; one that cannot start says why in one line and the rest run."""
        self.running = True
        for item in self.items:
            try:
                item.start()
            except OSError as exc:
                self.engine.report(item.name, "error", f"cannot start: {exc.strerror or exc}")

    def stop(self) -> None:
        """Stop every exporter."""
        self.running = False
        for item in self.items:
            item.stop()

    def watch_alerts(self, alerts: AlertSource) -> None:
        """Export the counts and records of an alert manager (called when it attaches)."""
        self.alerts = alerts
        for item in self.items:
            on_alert = getattr(item, "on_alert", None)
            if on_alert is not None:
                alerts.add_listener(on_alert)

    def _alert_counts(self) -> Mapping[tuple[str, str], int]:
        return self.alerts.fired_counts() if self.alerts is not None else {}

    def queues(self) -> dict[str, tuple[int, int]]:
        """Return each push exporter's (points waiting, points dropped)."""
        out = {}
        for item in self.items:
            stats = getattr(item, "queue_stats", None)
            if stats is not None:
                out[item.name] = stats()
        return out


def _where(settings: object) -> str:
    """Say where an exporter listens or sends, from its settings."""
    for field in ("listen", "server"):
        address = getattr(settings, field, None)
        if address is not None:
            return str(address)
    return str(getattr(settings, "url", "")) or type(settings).__name__


__all__ = ["AlertSource", "Exporter", "Exporters"]
