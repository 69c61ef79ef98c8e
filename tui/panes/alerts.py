"""Provides the Alerts pane: every action the alert rules fired, newest first, and how it went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static

from engine.alerts import AlertRecord
from engine.format import plural
from tui.panes.base import Pane
from tui.panes.overview import matches
from tui.widgets import Column, Row, RowTable

if TYPE_CHECKING:
    from engine import Snapshot

ACTION_STYLES = {"gong": "bold magenta", "bell": "yellow", "command": "cyan", "map": "blue"}


def row_of(rec: AlertRecord) -> Row:
    """Return the table row of one record: when, what, which metric, why, and how it went."""
    when = datetime.fromtimestamp(rec.time).astimezone().strftime("%m-%d %H:%M:%S")
    result = "…" if rec.result is None else rec.result
    quiet = result in ("cooling down", "already rang")
    style = "red" if not rec.ok else ("dim" if quiet else "")
    marker = {"critical": "!!", "down": "!!", "warning": "! ", "slow": "! "}.get(rec.severity, "")
    cells = (when, rec.action, rec.key, rec.detail, result)
    return Row(str(rec.id), cells, style=style, marker=marker)


class AlertsPane(Pane):
    """Lists the actions alerts fired (gong, bell, command, map), as the alert log has them."""

    TITLE = "Alerts"
    PANE_ID = "alerts"
    BINDINGS: ClassVar = [
        Binding("a", "people('ack')", "Acknowledge"),
        Binding("s", "people('silence', 3600)", "Silence 1 h"),
        Binding("S", "people('silence', 86400)", "Silence 1 day"),
        Binding("u", "people('unsilence')", "Unsilence"),
    ]

    @dataclass
    class StateChanged(Message, bubble=False):
        """The alert states were read (after a key acted on them, or on mount)."""

        summary: str
        said: str = ""

    @dataclass
    class AlertRecorded(Message, bubble=False):
        """An action fired or finished."""

        record: AlertRecord

        def can_replace(self, message: Message) -> bool:
            # The pane redraws from the manager's list, so a backlog merges into one redraw.
            return isinstance(message, AlertsPane.AlertRecorded)

    def compose(self) -> ComposeResult:
        yield Static("", id="alerts-title", classes="pane-title")
        yield Static("", id="alerts-state", classes="pane-title")
        yield RowTable(
            [
                Column(14),
                Column(7),
                Column(18, grow=1, cut="middle"),
                Column(14, grow=3),
                Column(6, grow=1),
            ],
            id="alerts-table",
        )

    def on_mount(self) -> None:
        self.engine.add_alert_listener(self._relay)
        # Acknowledge and silence act on the alert manager of an engine run here; attached to a
        # daemon, ``gongwatch alerts`` does it (the state file is shared).
        self.alerts = getattr(self.engine, "alerts", None)
        if self.alerts is not None:
            self._people("", "")
        self.refresh_records()

    def on_unmount(self) -> None:
        self.engine.remove_alert_listener(self._relay)

    def _relay(self, record: AlertRecord) -> None:
        # Called from collector and device threads: only post.
        self.post_message(self.AlertRecorded(record))

    @on(AlertRecorded)
    def _recorded(self) -> None:
        self.refresh_records()

    def action_people(self, what: str, seconds: float = 0.0) -> None:
        """Acknowledge, silence or unsilence the alerts of the metric under the cursor."""
        key = self.query_one("#alerts-table", RowTable).selected_key
        records = {str(r.id): r for r in self.alerts.records()} if self.alerts else {}
        rec = records.get(key or "")
        if rec is None:
            self.app.notify("no alert under the cursor", severity="warning", markup=False)
            return
        self._people(what, rec.key, seconds)

    @work(thread=True, group="alert-state", exit_on_error=False)
    def _people(self, what: str, key: str, seconds: float = 0.0) -> None:
        # The state is a file: read and written in a thread, the answer posted back.
        if self.alerts is None:
            return
        said = self.alerts.act_on(what, key, seconds) if what else ""
        self.post_message(self.StateChanged(self.alerts.state_line(), said))

    @on(StateChanged)
    def _state_changed(self, event: StateChanged) -> None:
        self.query_one("#alerts-state", Static).update(Text(event.summary))
        if event.said:
            self.app.notify(event.said, title="alerts", markup=False)

    @on(RowTable.Selected, "#alerts-table")
    def _open(self, event: RowTable.Selected) -> None:
        # Enter opens the chart of the metric that fired (the row key is the record's id).
        event.stop()
        records = {str(r.id): r for r in self.engine.alert_records()}
        rec = records.get(event.key)
        open_detail = getattr(self.app, "open_detail", None)
        if rec is not None and callable(open_detail) and rec.key in self.engine.snapshot().metrics:
            open_detail(rec.key)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """Records come from the alert manager, not the snapshot."""

    def set_filter(self, text: str) -> None:
        """Show only the actions whose metric matches ``text``."""
        self._filter = text.strip()
        self.refresh_records()

    def refresh_records(self) -> None:
        """Redraw the table and the title from the manager's records."""
        records = self.engine.alert_records()
        shown = [r for r in reversed(records) if not self._filter or matches(r.key, self._filter)]
        self.query_one("#alerts-table", RowTable).set_rows([row_of(r) for r in shown])
        self.query_one("#alerts-title", Static).update(self._title(len(records)))

    def _title(self, count: int) -> Text:
        info = self.engine.alert_info()
        rules = info.rules
        text = Text(f"{plural(count, 'action')} · {plural(rules, 'rule')} · log {info.log_path}")
        if info.log_error:
            text.append(f" · {info.log_error}", style="bold red")
        elif not rules and not info.locations:
            text.append(" · no [[alerts]] rules and no map locations configured")
        return text
