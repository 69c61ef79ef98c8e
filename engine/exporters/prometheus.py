"""Provides the Prometheus exporter: an HTTP endpoint whose scrape reads the engine's latest
snapshot (no I/O), with the alert counts and the other exporters' queues beside it."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from engine.exporters.config import PrometheusConfig
from engine.exporters.prom_names import snapshot_families

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from engine.engine import Snapshot

AlertCounts = Callable[[], Mapping[tuple[str, str], int]]
"""Returns how many times each (rule, action) fired."""
QueueStats = Callable[[], Mapping[str, tuple[int, int]]]
"""Returns each push exporter's (points waiting, points dropped)."""


class SnapshotCollector(Collector):
    """A prometheus_client collector over the engine's snapshots.

    The families of one snapshot are built once and served to every scrape until the
    snapshot changes, so a scrape costs little more than writing the text out.
    """

    def __init__(
        self,
        snapshot: Callable[[], Snapshot],
        alert_counts: AlertCounts | None = None,
        queues: QueueStats | None = None,
    ) -> None:
        """Args:
        snapshot: returns the engine's latest snapshot.
        alert_counts: returns the alert manager's fired counts (None: no alert families).
        queues: returns the push exporters' queue figures (None: none).
        """
        self.snapshot = snapshot
        self.alert_counts = alert_counts
        self.queues = queues
        self._lock = threading.Lock()
        self._version = -1
        self._families: list[Metric] = []

    def describe(self) -> Iterable[Metric]:
        """Describe nothing up front: the families depend on what the sources found."""
        return []

    def collect(self) -> Iterable[Metric]:
        """Return the families of the latest snapshot, the alert counts and the queues."""
        snap = self.snapshot()
        with self._lock:  # two scrapes at once build the families only once
            if snap.version != self._version:
                self._families = snapshot_families(snap)
                self._version = snap.version
            families = list(self._families)
        return families + self._alert_families() + self._queue_families()

    def _alert_families(self) -> list[Metric]:
        fired = CounterMetricFamily(
            "gongwatch_alerts_fired", "Actions fired by alert rules.", labels=["rule", "action"]
        )
        counts = self.alert_counts() if self.alert_counts else {}
        for (rule, action), n in sorted(counts.items()):
            fired.add_metric([rule, action], float(n))
        return [fired]

    def _queue_families(self) -> list[Metric]:
        if self.queues is None:
            return []
        waiting = GaugeMetricFamily(
            "gongwatch_exporter_queued", "Points waiting for a server.", labels=["exporter"]
        )
        dropped = CounterMetricFamily(
            "gongwatch_exporter_dropped", "Points dropped from a full queue.", labels=["exporter"]
        )
        for name, (queued, lost) in sorted(self.queues().items()):
            waiting.add_metric([name], float(queued))
            dropped.add_metric([name], float(lost))
        return [waiting, dropped]


class PrometheusExporter:
    """Serves ``/metrics`` on the configured address while the engine runs."""

    name = "prometheus"

    def __init__(self, config: PrometheusConfig, collector: SnapshotCollector) -> None:
        """Args:
        config: where to listen.
        collector: what a scrape returns.
        """
        self.config = config
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(collector)
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int | None:
        """The port it listens on (useful when configured as 0), None when stopped."""
        return self._server.server_port if self._server else None

    def start(self) -> None:
        """Listen and serve in a thread of its own.

        Raises:
            OSError: the address is taken or cannot be bound.
        """
        listen = self.config.listen
        self._server, self._thread = start_http_server(
            listen.port, listen.host, registry=self.registry
        )

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
