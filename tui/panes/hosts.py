"""Provides the Hosts pane: this machine first, then every host read through Prometheus, each with
its state, its worst verdict and how many of its metrics are anomalous."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widgets import Static

from engine.format import plural
from tui.panes.base import Pane
from tui.panes.overview import matches
from tui.widgets import Column, Row, RowTable

if TYPE_CHECKING:
    from engine import MetricState, Snapshot

HOSTS = "hosts"
"""Key root of the hosts read through Prometheus (``collectors.prometheus.HOSTS``, not imported:
that module brings httpx, which a monitor with no remote source never loads)."""
SOURCE_PREFIXES = ("prometheus:", "daemon:")
"""Names of the sources whose problems this pane shows: the Prometheus servers and the daemons
of a screen attached to several (``engine.many.SOURCE_PREFIX``)."""
NOT_HOSTS = ("remote",)
"""Key roots that are neither this machine nor a host: services seen from somewhere."""
STATE_STYLES = {"down": "bold red", "unknown": "dim"}
STATE_MARKERS = {"up": "● ", "down": "✖ ", "unknown": "? "}
WORST_STYLES = {"critical": "bold red", "warning": "bold yellow"}


@dataclass(frozen=True, slots=True)
class Host:
    """What the pane knows about one host."""

    name: str
    """``local`` host name, or a Prometheus instance (``web1:9100``)."""
    key: str
    """The metric the row opens: the host's ``up`` (a Prometheus host) or its first metric."""
    state: str
    """``up``, ``down`` or ``unknown`` (Prometheus says nothing of its target)."""
    worst: str
    """``ok``, ``warning`` or ``critical``: the worst verdict among its metrics."""
    anomalous: int
    metrics: int


def worst_of(states: list[MetricState]) -> str:
    """Return the worst verdict of some metrics: ``critical``, ``warning`` or ``ok``."""
    severities = {s.verdict.severity for s in states if s.verdict.anomalous}
    if "critical" in severities:
        return "critical"
    return "warning" if severities else "ok"


def host_of(key: str) -> str | None:
    """Return the Prometheus instance a key belongs to, ``""`` for this machine, None for
    neither (a remote service)."""
    root, _, rest = key.partition("/")
    if root == HOSTS:
        return rest.split("/", 1)[0]
    return None if root in NOT_HOSTS else ""


def hosts(snapshot: Snapshot, local_name: str) -> list[Host]:
    """Gather the snapshot's metrics by host: this machine first, then the instances by name."""
    by_host: dict[str, list[MetricState]] = {}
    for key, metric in snapshot.metrics.items():
        host = host_of(key)
        if host is not None:
            by_host.setdefault(host, []).append(metric)
    out = []
    for name in sorted(by_host, key=lambda h: (h != "", h)):
        states = by_host[name]
        if name:
            up = snapshot.metrics.get(f"{HOSTS}/{name}/up")
            state = "unknown" if up is None else (up.reading.text or "unknown")
            key = f"{HOSTS}/{name}/up" if up is not None else states[0].key
        else:
            state, key = "up", states[0].key
        anomalous = sum(s.verdict.anomalous for s in states)
        out.append(Host(name or local_name, key, state, worst_of(states), anomalous, len(states)))
    return out


def source_problems(snapshot: Snapshot) -> list[str]:
    """Return one line per problem of the Prometheus sources."""
    out: list[str] = []
    for name, src in sorted(snapshot.sources.items()):
        if name.startswith(SOURCE_PREFIXES):
            out.extend(f"{name}: {e}" for e in src.errors)
    return out


class HostsPane(Pane):
    """One row per host: its state, its worst verdict, anomalous metrics and metrics."""

    TITLE = "Hosts"
    PANE_ID = "hosts"

    def compose(self) -> ComposeResult:
        yield Static("", id="hosts-title", classes="pane-title")
        yield RowTable(
            [Column(20, grow=2), Column(8), Column(9), Column(12, "right"), Column(12, "right")],
            id="hosts-table",
        )
        yield Static("", id="hosts-problems")

    @property
    def table(self) -> RowTable:
        return self.query_one("#hosts-table", RowTable)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        local = getattr(self.app, "hostname", "this machine")
        shown = [h for h in hosts(snapshot, local) if matches(h.name, self._filter)]
        self.table.set_rows(self._rows(shown))
        states = [h.state for h in shown]
        counts = " · ".join(f"{states.count(s)} {s}" for s in STATE_MARKERS if s in states)
        title = f" {plural(len(shown), 'host')}" + (f" · {counts}" if counts else "")
        self.set_text(
            "#hosts-title", title + (f" · filter: {self._filter}" if self._filter else "")
        )
        self.set_text("#hosts-problems", [f"✖ {p}" for p in source_problems(snapshot)[-5:]])

    def _rows(self, shown: list[Host]) -> list[Row]:
        rows = []
        for h in shown:
            style = STATE_STYLES.get(h.state) or WORST_STYLES.get(h.worst, "")
            # Each cell says what it counts, so the table needs no header row.
            cells = (
                h.name,
                h.state,
                h.worst,
                f"{h.anomalous} anomalous",
                plural(h.metrics, "metric"),
            )
            rows.append(Row(h.key, cells, style, STATE_MARKERS.get(h.state, "? ")))
        if not rows:
            rows.append(Row("#none", ("nothing matches",), heading=True))
        return rows
