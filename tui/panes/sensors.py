"""Provides the Sensors pane: every chip's temperatures, fans, voltages, power and currents, with
their limits, a sparkline each, and alarms highlighted."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.widgets import Static

from engine.format import number, plural
from engine.format import value as format_value
from tui.panes.base import SPARK_MARGIN, Pane
from tui.panes.overview import matches, row_style
from tui.widgets import Column, Row, RowTable

if TYPE_CHECKING:
    from collectors.base import Reading
    from engine import MetricState, Snapshot


def limits_text(r: Reading) -> str:
    """Return a reading's limits as ``sensors`` shows them: ``min 2.98  max 3.63  crit 100``."""
    parts = []
    for name, v in (
        ("min", r.low),
        ("high" if r.unit == "°C" else "max", r.high),
        ("crit", r.crit),
    ):
        if v is not None:
            # Three significant digits, as ``sensors`` prints limits (2.98 V, not 3.0 V).
            parts.append(f"{name} {number(v) if abs(v) >= 100 else f'{v:.3g}'}")
    return "  ".join(parts)


def sensor_value(r: Reading, label: str) -> str:
    """Return a sensor's value as ``sensors`` prints it: ``+45.0°C``, ``3.36 V``, ``1068 RPM``."""
    v = r.value
    if v is None:
        return r.text or "-"
    if label.startswith("intrusion") and not r.unit:
        return "ALARM" if v else "ok"
    if r.unit == "°C":
        return f"{v:+.1f}°C"
    if r.unit in ("V", "A", "W", "J"):
        return f"{v:.2f} {r.unit}"
    if r.unit == "RPM":
        return f"{v:.0f} RPM"
    return format_value(v, r.unit, r.text)


def source_problems(snapshot: Snapshot, name: str) -> list[str]:
    """Return the unavailability and error lines of one source."""
    src = snapshot.sources.get(name)
    if src is None:
        return []
    return ([src.unavailable] if src.unavailable else []) + list(src.errors)


class TextPane(Pane):
    """What the hardware panes share: a title, a RowTable, a problems line, cached sparklines."""

    PREFIX = ""
    """Id prefix of the pane's widgets."""
    COLUMNS: ClassVar[list[Column]] = []

    DEFAULT_CSS = """
    .hw-problems { height: auto; max-height: 4; color: $error; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id=f"{self.PREFIX}-title", classes="pane-title")
        yield RowTable(self.COLUMNS, id=f"{self.PREFIX}-table")
        yield Static("", id=f"{self.PREFIX}-problems", classes="hw-problems")

    @property
    def table(self) -> RowTable:
        return self.query_one(f"#{self.PREFIX}-table", RowTable)

    def set_part(self, part: str, text: str | Sequence[str]) -> None:
        """Update the title or problems line of the pane."""
        self.set_text(f"#{self.PREFIX}-{part}", text)


class SensorsPane(TextPane):
    """Every sensor grouped by chip: value, unit, limits, sparkline; alarms highlighted."""

    TITLE = "Sensors"
    PANE_ID = "sensors"
    PREFIX = "sensors"
    COLUMNS: ClassVar[list[Column]] = [
        Column(16, grow=1),
        Column(10, "right"),
        Column(22, grow=1),
        Column(0, grow=2),
        Column(12, grow=1),
    ]

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._table = self.table
        width = self._table.flex_width()
        self._near = self._table.window(SPARK_MARGIN)
        chips: dict[str, list[tuple[str, MetricState]]] = {}
        for key, state in snapshot.metrics.items():
            parts = key.split("/", 2)
            if parts[0] == "sensors" and len(parts) == 3 and matches(key, self._filter):
                chips.setdefault(parts[1], []).append((parts[2], state))
        rows: list[Row] = []
        alarms = total = 0
        for chip in sorted(chips):
            bad = sum(bool(row_style(s)[0]) for _, s in chips[chip])
            note = f"  ({bad} in alarm)" if bad else ""
            rows.append(Row(f"#{chip}", (f"{chip}{note}",), heading=True))
            for label, state in chips[chip]:
                row = self.far_row(state.key, len(rows), self._near, width)
                rows.append(row or self._row(label, state, width, len(rows)))
            alarms += bad
            total += len(chips[chip])
        if not rows:
            rows.append(Row("#none", (self._empty_hint(snapshot),), heading=True))
        self.table.set_rows(rows)
        self.keep_rows(rows, width)
        summary = f"{alarms} in alarm" if alarms else "all within limits"
        if self._filter and not total:
            summary = "no sensor matches the filter"
        title = f" {plural(total, 'sensor')} on {plural(len(chips), 'chip')} · {summary}"
        self.set_part("title", title + (f" · filter: {self._filter}" if self._filter else ""))
        self.set_part("problems", [f"✖ {p}" for p in self._problems(snapshot)])

    def _row(self, label: str, state: MetricState, width: int, index: int) -> Row:
        r = state.reading
        marker, style = row_style(state)
        why = r.text if r.value is not None and r.text else ""
        if state.verdict.anomalous and not why:
            why = state.verdict.reason
        cells = (
            label,
            sensor_value(r, label),
            limits_text(r),
            self.spark(state, width, index, self._near),
            why or "",
        )
        return Row(r.key, cells, style, marker)

    def _problems(self, snapshot: Snapshot) -> list[str]:
        src = snapshot.sources.get("sensors")
        if src is not None and src.unavailable and not src.errors:
            return []  # the hint is in the table already
        return source_problems(snapshot, "sensors")[-4:]

    def _empty_hint(self, snapshot: Snapshot) -> str:
        if self._filter:
            return "nothing matches"
        src = snapshot.sources.get("sensors")
        if src is None:
            return "the sensors collector is off ([collectors.sensors] enabled = false)"
        return src.unavailable or "waiting for the first reading…"
