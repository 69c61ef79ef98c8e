"""Provides the Disks pane: a block per disk with its health, temperature and sparkline, the
SMART attributes that predict failure, the last self-test, and what changed since the start."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from engine.format import age_hours, plural
from engine.format import value as format_value
from tui.panes.overview import matches, row_style
from tui.panes.sensors import TextPane, source_problems
from tui.widgets import Column, Row

if TYPE_CHECKING:
    from engine import MetricState, Snapshot

LINES = (
    ("state", "state"),
    ("health", "health"),
    ("temperature", "temperature"),
    ("power_on_hours", "power on"),
)
"""The first lines of a disk's block: (metric part, label)."""
TAIL = (("selftest", "last self-test"), ("notes", "smartctl says"), ("changes", "since start"))
"""The last lines of a block, after the SMART attributes."""


def disks(snapshot: Snapshot) -> dict[str, dict[str, MetricState]]:
    """Gather the ``disk/<id>/<part>`` metrics by disk."""
    out: dict[str, dict[str, MetricState]] = {}
    for key, state in snapshot.metrics.items():
        parts = key.split("/", 2)
        if parts[0] == "disk" and len(parts) == 3:
            out.setdefault(parts[1], {})[parts[2]] = state
    return out


def heading(did: str, parts: dict[str, MetricState]) -> str:
    """Return the first line of a disk's block: name, model, capacity, serial."""
    bits = [did]
    for name in ("model", "capacity", "serial"):
        st = parts.get(name)
        if st is None:
            continue
        r = st.reading
        # A measured value is drawn by the one formatter every pane and the CLI use (a capacity
        # in TiB everywhere), rather than the text smartctl printed beside it.
        text = format_value(r.value, r.unit) if r.value is not None else (r.text or "")
        if name == "serial" and text:
            text = f"s/n {text}"
        if text and text != "unknown":
            bits.append(text)
    return "  ".join(bits)


def _attribute_order(part: str) -> tuple[int, str]:
    """ATA attributes by number (5 before 187), then the named ones (NVMe, SCSI)."""
    name = part.removeprefix("smart/")
    number = name.split("_", 1)[0]
    return (int(number), name) if number.isdigit() else (1000, name)


class DisksPane(TextPane):
    """One block per disk: health, temperature with its sparkline, failure attributes, the last
    self-test and what changed since the monitor started."""

    TITLE = "Disks"
    PANE_ID = "disks"
    PREFIX = "disks"
    COLUMNS: ClassVar[list[Column]] = [
        Column(22),
        Column(20, grow=3),
        Column(8, grow=1),
        Column(10, grow=2),
    ]

    def show_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        width = self.table.column_width(2)
        rows: list[Row] = []
        bad_disks = shown = 0
        found = disks(snapshot)
        for did in sorted(found):
            parts = found[did]
            if not any(matches(f"disk/{did}/{p}", self._filter) for p in parts):
                continue
            block = self._block(did, parts, snapshot, width)
            bad_disks += any(r.marker.strip() for r in block)
            shown += 1
            rows.extend(block)
        if not rows:
            rows.append(Row("#none", (self._empty_hint(snapshot),), heading=True))
        self.table.set_rows(rows)
        summary = f"{bad_disks} need attention" if bad_disks else "all healthy"
        smart = snapshot.sources.get("smart")
        if smart is not None and smart.unavailable and not bad_disks:
            summary = "health unknown: SMART cannot run (see below)"
        if self._filter and not shown and found:
            summary = "no disk matches the filter"
        title = f" {plural(shown, 'disk')} · {summary}" + (
            f" · filter: {self._filter}" if self._filter else ""
        )
        self.set_part("title", title)
        problems = source_problems(snapshot, "smart")
        self.set_part("problems", [f"✖ {p}" for p in problems[-4:]])

    def _block(
        self, did: str, parts: dict[str, MetricState], snapshot: Snapshot, width: int
    ) -> list[Row]:
        rows = [Row(f"#disk/{did}", (heading(did, parts),), heading=True)]
        for part, label in LINES:
            if part in parts:
                rows.append(self._line(label, parts[part], snapshot, parts, width))
        for part in sorted((p for p in parts if p.startswith("smart/")), key=_attribute_order):
            label = part.removeprefix("smart/").replace("_", " ", 1)
            rows.append(self._line(label, parts[part], snapshot, parts, width))
        for part, label in TAIL:
            if part in parts:
                rows.append(self._line(label, parts[part], snapshot, parts, width))
        return rows

    def _line(
        self,
        label: str,
        state: MetricState,
        snapshot: Snapshot,
        parts: dict[str, MetricState],
        width: int,
    ) -> Row:
        r = state.reading
        marker, style = row_style(state)
        spark = ""
        if r.key.endswith("/temperature"):
            spark = self.spark(self._live_temperature(snapshot, parts) or state, width)
        text = format_value(r.value, r.unit, r.text)
        if r.unit == "h" and r.value is not None:
            text = age_hours(r.value)
        why = r.text if r.value is not None and r.text else ""
        if state.verdict.anomalous and not why:
            why = state.verdict.reason
        key = r.key if r.value is not None else f"{r.key}#text"
        return Row(key, (label, text, spark, why or ""), style, marker)

    def _live_temperature(
        self, snapshot: Snapshot, parts: dict[str, MetricState]
    ) -> MetricState | None:
        """The disk's temperature from its hwmon chip, polled far more often than SMART."""
        link = parts.get("hwmon")
        if link is None or not link.reading.text:
            return None
        prefix = f"sensors/{link.reading.text}/"
        return next(
            (
                s
                for k, s in snapshot.metrics.items()
                if k.startswith(prefix) and s.reading.unit == "°C"
            ),
            None,
        )

    def _empty_hint(self, snapshot: Snapshot) -> str:
        if self._filter:
            return "nothing matches"
        src = snapshot.sources.get("smart")
        if src is None:
            return "the SMART collector is off ([collectors.smart] enabled = false)"
        if src.unavailable:
            return src.unavailable
        return "no disks found yet (SMART polls every few minutes)" if not src.polls else "no disks"
