"""Provides the Remote pane: each service from each location, and the map that mirrors the LEDs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from collectors.locations import coordinates
from engine.format import plural
from engine.format import value as format_value
from tui.panes.base import Pane
from tui.panes.overview import matches
from tui.widgets import Column, Row, RowTable
from tui.widgets.world_map import RANK, STYLES, SYMBOLS, Marker, WorldMap, worst

if TYPE_CHECKING:
    from engine import EngineView, MetricState, Snapshot

SOURCE_PREFIXES = ("remote:", "http:")
"""Names of the collectors whose problems this pane shows."""
MAP_MIN_WIDTH = 100
"""Pane width below which the map is hidden, so the table keeps room to read."""


@dataclass(frozen=True, slots=True)
class Location:
    """What the pane knows about one service at one location."""

    service: str
    location: str
    state: str
    """``up``, ``slow``, ``down`` or ``unknown``."""
    label: str
    time: MetricState | None = None
    error: str = ""
    """The last error, when it belongs to the latest poll."""

    @property
    def key(self) -> str:
        """The metric key the row opens: the time series where there is one."""
        base = f"remote/{self.service}/{self.location}"
        return f"{base}/time" if self.time is not None else f"{base}/status"


def locations(snapshot: Snapshot) -> list[Location]:
    """Gather the ``remote/<service>/<location>/...`` metrics into one record per location."""
    parts: dict[tuple[str, str], dict[str, MetricState]] = {}
    for key, state in snapshot.metrics.items():
        bits = key.split("/")
        if len(bits) == 4 and bits[0] == "remote":
            parts.setdefault((bits[1], bits[2]), {})[bits[3]] = state
    out = []
    for (service, location), kinds in sorted(parts.items()):
        status = kinds.get("status")
        if status is None:
            continue
        err = kinds.get("error")
        # An error reading is current only when it came with the latest status.
        current = err is not None and err.reading.time >= status.reading.time
        out.append(
            Location(
                service,
                location,
                status.reading.text or "unknown",
                status.reading.label or location,
                kinds.get("time"),
                (err.reading.text or "") if current and err else "",
            )
        )
    return out


def source_problems(snapshot: Snapshot) -> list[str]:
    """Return one line per problem of the remote sources (unavailable, or an error)."""
    out = []
    for name, src in sorted(snapshot.sources.items()):
        if not name.startswith(SOURCE_PREFIXES):
            continue
        if src.unavailable:
            out.append(f"{name}: {src.unavailable}")
        out.extend(f"{name}: {e}" for e in src.errors)
    return out


class RemotePane(Pane):
    """Services by locations with state, response time, sparkline and last error; a world map."""

    TITLE = "Remote"
    PANE_ID = "remote"

    def __init__(self, engine: EngineView, *, id: str | None = None) -> None:
        super().__init__(engine, id=id)
        self._places: dict[str, tuple[float, float] | None] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id="remote-title", classes="pane-title")
        with Horizontal(id="remote-body"):
            yield RowTable(
                [
                    Column(14, grow=1),
                    Column(6),
                    Column(8, "right"),
                    Column(0, grow=2),
                    Column(20, grow=2),
                ],
                id="remote-table",
            )
            yield WorldMap(id="remote-map")
        yield Static("", id="remote-problems")

    @property
    def table(self) -> RowTable:
        return self.query_one("#remote-table", RowTable)

    @property
    def world(self) -> WorldMap:
        return self.query_one("#remote-map", WorldMap)

    def on_resize(self, event: events.Resize) -> None:
        self.world.display = event.size.width >= MAP_MIN_WIDTH

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        shown = [
            loc
            for loc in locations(snapshot)
            if matches(f"remote/{loc.service}/{loc.location}", self._filter)
        ]
        self.table.set_rows(self._rows(shown))
        self.world.set_markers(self._markers(shown))
        self.set_text("#remote-title", self._title(shown))
        problems = source_problems(snapshot)
        self.set_text("#remote-problems", [f"✖ {p}" for p in problems[-5:]])

    def _rows(self, shown: list[Location]) -> list[Row]:
        width = self.table.flex_width()
        rows: list[Row] = []
        service = None
        for loc in shown:
            if loc.service != service:
                service = loc.service
                states = [x.state for x in shown if x.service == service]
                rows.append(Row(f"#{service}", (f"{service}  {summary(states)}",), heading=True))
            t = loc.time.reading if loc.time is not None else None
            cells = (
                loc.label,
                loc.state,
                format_value(t.value, t.unit) if t is not None else "-",
                self.spark(loc.time, width),
                loc.error,
            )
            marker = SYMBOLS.get(loc.state, "?") + " "
            rows.append(Row(loc.key, cells, STYLES.get(loc.state, "dim"), marker))
        if not rows:
            hint = (
                "no remote services: add [[remote.serverdensity]] or [[remote.http]] to the config"
            )
            rows.append(
                Row("#none", (hint if not self._filter else "nothing matches",), heading=True)
            )
        return rows

    def _markers(self, shown: list[Location]) -> list[Marker]:
        overrides = self.engine.config.locations
        by_place: dict[str, list[str]] = {}
        for loc in shown:
            by_place.setdefault(loc.location, []).append(loc.state)
        out = []
        for name, states in by_place.items():
            if name not in self._places:
                self._places[name] = coordinates(name, overrides)
            pos = self._places[name]
            lat, lon = pos if pos is not None else (None, None)
            out.append(Marker(name, lat, lon, worst(states)))
        return out

    def _title(self, shown: list[Location]) -> str:
        services = len({loc.service for loc in shown})
        places = len({loc.location for loc in shown})
        states = summary([x.state for x in shown])
        text = f" {plural(services, 'service')} · {plural(places, 'location')} · {states}"
        return text + (f" · filter: {self._filter}" if self._filter else "")


def summary(states: list[str]) -> str:
    """Return counts per state, worst last: ``3 up · 1 slow · 1 down``."""
    counts = {s: states.count(s) for s in sorted(set(states), key=lambda s: RANK.get(s, 1))}
    return " · ".join(f"{n} {s}" for s, n in counts.items()) or "nothing yet"
