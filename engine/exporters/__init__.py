"""Provides ``Exporters``: the outputs a configuration asks for (Prometheus, Graphite,
InfluxDB, MQTT), owned by the engine and started and stopped with it.

Each exporter's library is imported only when its table is in the configuration, so a
monitor that exports nothing loads none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from engine.alerts import AlertRecord
    from engine.engine import Engine


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
    """The configured exporters of one engine."""

    def __init__(self, engine: Engine) -> None:
        """Build (without starting) the exporters ``engine.config`` asks for.

        Args:
            engine: whose snapshots and batches they export.
        """
        self.engine = engine
        self.alerts: AlertSource | None = None
        self.items: list[Exporter] = []
        cfg = engine.config.integrations
        if cfg.graphite is not None:
            from engine.exporters.graphite import GraphiteExporter

            self.items.append(GraphiteExporter(cfg.graphite, engine.report))
        if cfg.influxdb is not None:
            from engine.exporters.influxdb import InfluxExporter

            self.items.append(InfluxExporter(cfg.influxdb, engine.report))
        if cfg.mqtt is not None:
            from engine.exporters.mqtt import MqttExporter

            self.items.append(MqttExporter(cfg.mqtt, engine.report))
        for item in self.items:
            engine.subscribe(item.observe)  # type: ignore[attr-defined]
        if cfg.prometheus is not None:
            from engine.exporters.prometheus import PrometheusExporter, SnapshotCollector

            collector = SnapshotCollector(engine.snapshot, self._alert_counts, self.queues)
            self.items.append(PrometheusExporter(cfg.prometheus, collector))

    def get(self, name: str) -> Exporter | None:
        """Return the exporter called ``name`` (``prometheus``, ``graphite`` ...), if configured."""
        return next((e for e in self.items if e.name == name), None)

    def start(self) -> None:
        """Start every exporter; one that cannot start says why in one line and the rest run."""
        for item in self.items:
            try:
                item.start()
            except OSError as exc:
                self.engine.report(item.name, "error", f"cannot start: {exc.strerror or exc}")

    def stop(self) -> None:
        """Stop every exporter."""
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


__all__ = ["AlertSource", "Exporter", "Exporters"]
