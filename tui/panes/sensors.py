"""Provides the Sensors pane: every chip's temperatures, fans, voltages, power and currents, with
their limits, a sparkline each, and alarms highlighted."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Static

from tui.format import number
from tui.format import value as format_value
from tui.panes.base import Pane
from tui.panes.overview import matches, row_style
from tui.widgets import Column, Row, RowTable, sparkline

if TYPE_CHECKING:
    from collectors.base import Reading
    from tui.engine import Engine, MetricState, Snapshot


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
    SPARK_WIDTH = 0
    """Cells of a sparkline; 0 for the table's flexible column."""
    COLUMNS: ClassVar[list[Column]] = []

    DEFAULT_CSS = """
    .hw-problems { height: auto; max-height: 4; color: $error; }
    """

    def __init__(self, engine: Engine, *, id: str | None = None) -> None:
        super().__init__(engine, id=id)
        self._filter = ""
        self._snapshot: Snapshot | None = None
        self._sparks: dict[str, tuple[float, int, str]] = {}
        self._texts: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static("", id=f"{self.PREFIX}-title", classes="pane-title")
        yield RowTable(self.COLUMNS, id=f"{self.PREFIX}-table")
        yield Static("", id=f"{self.PREFIX}-problems", classes="hw-problems")

    @property
    def table(self) -> RowTable:
        return self.query_one(f"#{self.PREFIX}-table", RowTable)

    def set_filter(self, text: str) -> None:
        self._filter = text.strip()
        self._reshow()

    def on_resize(self) -> None:
        # Sparklines are as wide as the table: draw them again once the layout has settled.
        self.call_after_refresh(self._reshow)

    def _reshow(self) -> None:
        if self._snapshot is not None:
            self.show_snapshot(self._snapshot)

    def spark(self, state: MetricState | None, width: int) -> str:
        """Return the sparkline of a metric, drawn again only when it has a new point."""
        if state is None or state.reading.value is None:
            return ""
        r = state.reading
        cached = self._sparks.get(r.key)
        if cached and cached[0] == r.time and cached[1] == width:
            return cached[2]
        text = sparkline(self.engine.history(r.key, width).x, width)
        self._sparks[r.key] = (r.time, width, text)
        return text

    def set_text(self, part: str, text: str) -> None:
        """Update the title or problems line, only when it changed."""
        if self._texts.get(part) != text:
            self._texts[part] = text
            # Plain text: sensor labels and error lines hold brackets markup would eat.
            self.query_one(f"#{self.PREFIX}-{part}", Static).update(Text(text))


class SensorsPane(TextPane):
    """Every sensor grouped by chip: value, unit, limits, sparkline; alarms highlighted."""

    TITLE = "Sensors"
    PANE_ID = "sensors"
    PREFIX = "sensors"
    COLUMNS: ClassVar[list[Column]] = [
        Column(22),
        Column(10, "right"),
        Column(24),
        Column(0),
        Column(12),
    ]

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        width = self.table.flex_width()
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
                rows.append(self._row(label, state, width))
            alarms += bad
            total += len(chips[chip])
        if not rows:
            rows.append(Row("#none", (self._empty_hint(snapshot),), heading=True))
        self.table.set_rows(rows)
        summary = f"{alarms} in alarm" if alarms else "all within limits"
        title = f" {total} sensors on {len(chips)} chips · {summary}"
        self.set_text("title", title + (f" · filter: {self._filter}" if self._filter else ""))
        self.set_text("problems", "\n".join(f"✖ {p}" for p in self._problems(snapshot)))

    def _row(self, label: str, state: MetricState, width: int) -> Row:
        r = state.reading
        marker, style = row_style(state)
        why = r.text if r.value is not None and r.text else ""
        if state.verdict.anomalous and not why:
            why = state.verdict.reason
        cells = (
            label,
            sensor_value(r, label),
            limits_text(r),
            self.spark(state, width),
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
