"""Provides the Devices pane: the serial ports, the gong and the map driven from the keyboard,
a raw command line with history, and a log of every line on the wire."""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, Static

from collectors.base import printable
from collectors.serial_link import (
    CommandError,
    DeviceState,
    LineEvent,
    PortInfo,
    Reply,
)
from tui.panes.base import Pane
from tui.widgets import Column, CommandLine, Row, RowTable, TextLog

if TYPE_CHECKING:
    from engine import EngineView, Snapshot

MAP_CYCLE = ("up", "slow", "down")
"""What ``m`` steps every map LED through."""
LOG_LINES = 1000
"""Lines the log keeps."""
ARROWS = {"sent": "→", "received": "←", "garbage": "?", "info": "·", "error": "!"}
STYLES = {"sent": "bold", "received": "green", "garbage": "yellow", "info": "dim", "error": "red"}


class PortTable(RowTable):
    """The ports found: enter connects the device whose firmware answered on one."""

    BINDINGS: ClassVar = [Binding("enter", "select", "Connect", show=False)]


def format_event(name: str, event: LineEvent) -> Text:
    """Return one log line: time, device, direction, text and round-trip latency."""
    when = datetime.fromtimestamp(event.time).astimezone().strftime("%H:%M:%S.%f")[:-3]
    text = Text(f"{when} {name:<4} {ARROWS.get(event.kind, ' ')} ", style="dim")
    text.append(printable(event.text), style=STYLES.get(event.kind, ""))
    if event.latency is not None:
        text.append(f"  {event.latency * 1000:.0f} ms", style="cyan")
    return text


class DevicesPane(Pane):
    """Finds the boards, connects them, and tests every command from the keyboard."""

    TITLE = "Devices"
    PANE_ID = "devices"
    BINDINGS: ClassVar = [
        Binding("g", "strike", "Strike gong"),
        Binding("m", "cycle_map", "Cycle map"),
        Binding("l", "set_location", "Set location"),
        Binding("colon", "command", "Command"),
        Binding("t", "target", "Target"),
        Binding("c", "connect", "Connect"),
        Binding("d", "disconnect", "Disconnect"),
        Binding("r", "scan", "Rescan ports"),
    ]

    @dataclass
    class LineLogged(Message, bubble=False):
        """A device sent or received a line (or noted something about its link)."""

        name: str
        event: LineEvent

    @dataclass
    class DeviceChanged(Message, bubble=False):
        """A device's connection changed."""

        state: DeviceState

    @dataclass
    class PortProbed(Message, bubble=False):
        """One port answered a probe (or did not, in time)."""

        port: PortInfo

    @dataclass
    class PortsScanned(Message, bubble=False):
        """The ports were probed."""

        ports: list[PortInfo]

    def __init__(self, engine: EngineView, *, id: str | None = None) -> None:
        super().__init__(engine, id=id)
        self.target = "map"
        """Device the command line talks to."""
        self.ports: list[PortInfo] = []
        self.lines: deque[str] = deque(maxlen=LOG_LINES)
        """The log as plain text (what the log widget shows)."""
        self._scanned = False
        self._map_step = -1
        self._location_step = -1

    def compose(self) -> ComposeResult:
        yield Static("", id="devices-title", classes="pane-title")
        yield PortTable([Column(36), Column(10), Column(24), Column(0)], id="devices-ports")
        yield TextLog(LOG_LINES, id="devices-log")
        yield CommandLine(id="devices-command")

    def on_mount(self) -> None:
        self.engine.add_device_listener(self._relay)
        self._show_title()

    def on_unmount(self) -> None:
        self.engine.remove_device_listener(self._relay)

    def _relay(self, name: str, event: LineEvent | DeviceState) -> None:
        # Called from a device's thread, or an attached view's: only post.
        if isinstance(event, DeviceState):
            self.post_message(self.DeviceChanged(event))
        else:
            self.post_message(self.LineLogged(name, event))

    def _all(self) -> tuple[DeviceState, ...]:
        return self.engine.device_states()

    def _device(self, name: str) -> DeviceState | None:
        return next((d for d in self._all() if d.name == name), None)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        """The first time the pane is shown, look for ports (opening one resets a board)."""
        if not self._scanned:
            self.action_scan()

    # -- what the devices and the scan tell ---------------------------------------------------

    @on(LineLogged)
    def _logged(self, message: LineLogged) -> None:
        self.log_line(format_event(message.name, message.event))

    @on(DeviceChanged)
    def _changed(self, message: DeviceChanged) -> None:
        self._show_title()
        self._show_ports()

    @on(PortProbed)
    def _probed(self, message: PortProbed) -> None:
        info = message.port
        self.ports = [p for p in self.ports if p.port != info.port] + [info]
        self._show_ports()

    @on(PortsScanned)
    def _scanned_ports(self, message: PortsScanned) -> None:
        self.ports = message.ports
        self._show_ports()
        found = [f"{p.kind} on {p.port}" for p in message.ports if p.kind]
        busy = sum(p.error == "in use" for p in message.ports)
        found += [f"{busy} in use by gongwatch"] if busy else []
        self.note(f"scanned {len(message.ports)} ports: {', '.join(found) or 'no device answered'}")

    def log_line(self, text: Text) -> None:
        """Append a line to the log."""
        self.lines.append(text.plain)
        self.query_one("#devices-log", TextLog).write(text)

    def note(self, text: str, style: str = "dim") -> None:
        """Log a line of the pane's own."""
        when = datetime.fromtimestamp(time.time()).astimezone().strftime("%H:%M:%S.%f")[:-3]
        self.log_line(Text(f"{when}      {printable(text)}", style=style))

    def _show_title(self) -> None:
        text = Text()
        for st in self._all():
            style = {"connected": "green", "retrying": "red"}.get(st.status, "")
            text.append(f"{st.name:<5}", style="bold")
            text.append(st.status, style=style)
            where = (f" on {st.port}" if st.port else "") + (f": {st.detail}" if st.detail else "")
            text.append(printable(where) + "\n")
        text.rstrip()
        self.query_one("#devices-title", Static).update(text or "no devices in this app")
        self.query_one(CommandLine).border_title = f"command → {self.target}"

    def _show_ports(self) -> None:
        users = {st.port: st for st in self._all() if st.port}
        rows = []
        for info in self.ports + [PortInfo(p) for p in users if p not in self._known()]:
            st = users.get(info.port)
            kind_of = info if info.kind else st
            kind = f"{kind_of.kind} {kind_of.version}" if kind_of and kind_of.kind else "-"
            used = f"{st.name}: {st.status}" if st else ""
            rows.append(Row(info.port, (info.port, kind, used, info.error or info.description)))
        self.query_one("#devices-ports", RowTable).set_rows(rows)

    def _known(self) -> set[str]:
        return {p.port for p in self.ports}

    # -- actions ------------------------------------------------------------------------------

    def action_scan(self) -> None:
        """Probe every serial port (and the configured ones) for our firmware."""
        self._scanned = True
        self.note("scanning serial ports ...")
        # Rows show at once and fill in as the boards answer.
        self.ports = [PortInfo(p.port, p.description, error="probing ...") for p in self.ports]
        self._show_ports()
        # The engine never probes a port a device holds or is about to (a probe resets it).
        self.engine.scan_ports(self._port_probed).add_done_callback(self._ports_found)

    def _port_probed(self, info: PortInfo) -> None:
        # Called on a probing thread: only post.
        self.post_message(self.PortProbed(info))

    def _ports_found(self, future: Future[list[PortInfo]]) -> None:
        # Called on the thread that scanned: only post.
        exc = None if future.cancelled() else future.exception()
        if exc is not None or future.cancelled():
            event = LineEvent(time.time(), "", "error", f"port scan failed: {exc or 'cancelled'}")
            self.post_message(self.LineLogged("ports", event))
            return
        self.post_message(self.PortsScanned(future.result()))

    def action_strike(self) -> None:
        """Strike the gong now (a test ignores the alert cooldown)."""
        self._track("gong", "gong", self.engine.device_command("gong", "gong"))

    def action_cycle_map(self) -> None:
        """Set every map LED to the next of up, slow and down."""
        self._map_step = (self._map_step + 1) % len(MAP_CYCLE)
        line = f"all {MAP_CYCLE[self._map_step]}"
        # A test from the keyboard: what alerts want comes back on the next connect.
        self._track("map", line, self.engine.device_command("map", line))

    def action_set_location(self) -> None:
        """Put ``<location> up`` on the command line, for the map (next known location)."""
        names = sorted(set(self._locations()))
        self.target = "map"
        box = self.query_one(CommandLine)
        if names:
            self._location_step = (self._location_step + 1) % len(names)
            box.fill(f"{names[self._location_step]} up", prefilled=True)
        box.focus()
        self._show_title()

    @on(CommandLine.CycleAsked)
    def _cycle_location(self, event: CommandLine.CycleAsked) -> None:
        event.stop()
        self.action_set_location()

    @on(CommandLine.Left)
    def _left_command_line(self, event: CommandLine.Left) -> None:
        event.stop()
        self.query_one("#devices-ports", RowTable).focus()

    def _locations(self) -> list[str]:
        config = getattr(self.engine, "config", None)
        return list(config.map.locations.values()) if config is not None else []

    def action_command(self) -> None:
        """Put the cursor on an empty command line."""
        box = self.query_one(CommandLine)
        box.fill("")
        box.focus()

    def action_target(self) -> None:
        """Send the command line to the other device."""
        self.target = "gong" if self.target == "map" else "map"
        self._show_title()

    def action_connect(self) -> None:
        """Connect the device whose firmware answered on the selected port; nothing else."""
        port = self.query_one("#devices-ports", RowTable).selected_key
        if not port:
            return
        info = next((p for p in self.ports if p.port == port), None)
        device = self._device(info.kind) if info is not None and info.kind else None
        if device is None:
            # Moving a device to a port where its firmware did not answer would only take it
            # off the port it works on.
            self.note(f"not connected: no gong or map firmware answered on {port}", "red")
            return
        self.note(f"connecting {device.name} to {port}")
        self.engine.device_connect(device.name, port)

    def action_disconnect(self) -> None:
        """Disconnect the device on the selected port (else the target)."""
        port = self.query_one("#devices-ports", RowTable).selected_key
        using = [st for st in self._all() if port and st.port == port]
        device = using[0] if using else self._device(self.target)
        if device is not None:
            self.engine.device_disconnect(device.name)

    @on(RowTable.Selected, "#devices-ports")
    def _enter_on_port(self, event: RowTable.Selected) -> None:
        event.stop()
        self.action_connect()

    @on(Input.Submitted, "#devices-command")
    def _send(self, event: Input.Submitted) -> None:
        event.stop()
        box = self.query_one(CommandLine)
        line = event.value.strip()
        if not line:
            return
        box.history.add(line)
        box.value = ""
        # The engine checks the line against the protocol (and the map's locations) before
        # anything is sent; a refusal comes back in the future as CommandError.
        self._track(self.target, line, self.engine.device_command(self.target, line))

    def _track(self, name: str, line: str, future: Future[Reply] | None) -> None:
        """Log why a command was not sent or failed (replies are logged by the link)."""
        if future is None:
            return
        future.add_done_callback(lambda f: self._failed(name, line, f))

    def _failed(self, name: str, line: str, future: Future[Reply]) -> None:
        exc = None if future.cancelled() else future.exception()
        if exc is not None:
            text = f"not sent: {exc}" if isinstance(exc, CommandError) else f"{line}: {exc}"
            event = LineEvent(time.time(), "", "error", text)
            self.post_message(self.LineLogged(name, event))
