"""Provides the Overview pane: every metric with its value, unit, sparkline and verdict."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.widgets import Static

from engine.config import glob_match
from engine.format import plural
from engine.format import value as format_value
from tui.panes.base import SPARK_MARGIN, Pane
from tui.widgets import Column, Row, RowTable

if TYPE_CHECKING:
    from engine import EngineView, MetricState, Snapshot

MARKERS = {"warning": "! ", "critical": "!!"}
"""Row markers by severity: anomalies show without colour too."""
STYLES = {"warning": "bold yellow", "critical": "bold red"}


def row_style(state: MetricState) -> tuple[str, str]:
    """Return the (marker, style) of a metric's row from its verdict."""
    v = state.verdict
    if not v.anomalous:
        return "", ""
    severity = v.severity if v.severity in MARKERS else "warning"
    return MARKERS[severity], STYLES[severity]


def group_of(key: str) -> tuple[str, str]:
    """Split a metric key into its group heading and the label within the group."""
    parts = key.split("/")
    if len(parts) <= 2:
        return parts[0], "/".join(parts[1:]) or parts[0]
    return "/".join(parts[:2]), "/".join(parts[2:])


GROUP_ORDER = ("system", "sensors", "disk", "remote", "hosts")
"""What a person checks first comes first: the machine, then its hardware, then services, then
the other hosts (``hosts/<instance>``, one group each)."""


def ordered(metrics: dict[str, MetricState]) -> list[tuple[str, MetricState]]:
    """Return the metrics with their groups in ``GROUP_ORDER`` (others last), each group's
    metrics in the order they first appeared."""
    rank = {name: i for i, name in enumerate(GROUP_ORDER)}
    return sorted(metrics.items(), key=lambda kv: rank.get(kv[0].split("/", 1)[0], len(rank)))


def matches(key: str, text: str) -> bool:
    """True when ``key`` passes the filter: a glob when it has ``*``, else a substring."""
    if not text:
        return True
    if "*" in text or "?" in text:
        return glob_match(text, key)
    return text.lower() in key.lower()


def stopped_note(snapshot: Snapshot) -> str:
    """Say which sources' threads stopped, and why, so that frozen values never pass for a
    quiet machine: ``stopped: system (RuntimeError: boom)``; empty when all run."""
    stopped = [(name, s.stopped) for name, s in snapshot.sources.items() if s.stopped]
    if not stopped:
        return ""
    if len(stopped) == 1:
        return f"stopped: {stopped[0][0]} ({stopped[0][1]})"
    return f"stopped: {', '.join(name for name, _ in stopped)}"


class OverviewPane(Pane):
    """Lists each metric with its current value, unit and a live sparkline of its history."""

    TITLE = "Overview"
    PANE_ID = "overview"

    def __init__(self, engine: EngineView, *, id: str | None = None) -> None:
        super().__init__(engine, id=id)
        self._laid: tuple[tuple[str, ...], str, list[tuple[str, str]]] = ((), "", [])
        self._laid_keys: list[str] = []
        """The metric keys of the rows of ``_laid`` (no headings)."""
        self._rows: tuple[list[tuple[str, str]] | None, int, list[Row]] = (None, -1, [])
        """The layout and the width the last rows were drawn for, and those rows."""

    def compose(self) -> ComposeResult:
        yield Static("", id="overview-title", classes="pane-title")
        yield RowTable(
            [Column(22, grow=1), Column(13, "right"), Column(0, grow=2), Column(12, grow=2)],
            id="overview-table",
        )

    @property
    def table(self) -> RowTable:
        return self.query_one("#overview-table", RowTable)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        table = self.table
        width = table.flex_width()
        near = table.window(SPARK_MARGIN)
        layout = self._layout(snapshot)
        metrics = snapshot.metrics
        rows = self._rows_near(layout, metrics, width, near)
        if rows is None:
            rows = []
            for key, label in layout:
                state = metrics.get(key)
                if state is None:  # a group heading
                    rows.append(Row(key, (label,), heading=True))
                    continue
                row = self.far_row(key, len(rows), near, width)
                if row is None:
                    row = self._row(state, label, width, len(rows), near)
                rows.append(row)
            self.keep_rows(rows, width)
        self._rows = (layout, width, rows)
        table.set_rows(rows)
        anomalies = sum(metrics[key].verdict.anomalous for key in self._laid_keys)
        shown = len(self._laid_keys)
        self._show_title(shown, anomalies, len(metrics), stopped_note(snapshot))

    def _rows_near(
        self, layout: list[tuple[str, str]], metrics: dict[str, MetricState], width: int,
        near: range,
    ) -> list[Row] | None:  # fmt: skip
        """Return the rows drawn last time with those near the screen built anew, when the
        layout and the width are the same (None when not): hundreds of rows far off the
        screen are not looked at each second (they are built when they scroll near it)."""
        last_layout, last_width, last_rows = self._rows
        if last_layout is not layout or last_width != width:
            return None
        rows = list(last_rows)
        start = max(0, near.start)
        for index in range(start, min(near.stop, len(layout))):
            key, label = layout[index]
            state = metrics.get(key)
            if state is not None:  # not a group heading
                rows[index] = self._row(state, label, width, index, near)
        self._drawn.update((r.key, r) for r in rows[start : near.stop] if not r.heading)
        return rows

    def _layout(self, snapshot: Snapshot) -> list[tuple[str, str]]:
        """Return the rows to draw, as (metric key, label) or (heading key, heading): found
        again only when the metrics' keys or the filter changed, not each second."""
        keys = tuple(snapshot.metrics)
        if self._laid[0] != keys or self._laid[1] != self._filter:
            out: list[tuple[str, str]] = []
            group = None
            for key, _ in ordered(snapshot.metrics):
                if not matches(key, self._filter):
                    continue
                heading, label = group_of(key)
                if heading != group:
                    group = heading
                    out.append((f"#{heading}", heading))
                out.append((key, label))
            self._laid = (keys, self._filter, out)
            self._laid_keys = [key for key, _ in out if key in snapshot.metrics]
        return self._laid[2]

    def _row(self, state: MetricState, label: str, width: int, index: int, near: range) -> Row:
        r = state.reading
        marker, style = row_style(state)
        cells = (
            r.label or label,
            format_value(r.value, r.unit, r.text),
            self.spark(state, width, index, near),
            state.verdict.reason if state.verdict.anomalous else "",
        )
        return Row(state.key, cells, style, marker)

    def _show_title(self, shown: int, anomalies: int, total: int, stopped: str = "") -> None:
        parts = [
            plural(total, "metric") if shown == total else f"{shown} of {plural(total, 'metric')}"
        ]
        if stopped:
            parts.insert(0, stopped)
        if self._filter:
            parts.append(f"filter: {self._filter}")
        parts.append(f"{anomalies} anomalous" if anomalies else "nothing unusual")
        self.set_text("#overview-title", " " + " · ".join(parts))
