"""Provides ``EngineView``: everything the UI reads from the engine and asks of it.

The TUI depends on this protocol, never on the concrete ``Engine``, so it cannot tell whether
the engine runs in its own process (the embedded case, ``engine.Engine`` itself) or in a
daemon it is attached to (a client that implements the same methods over a socket).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from concurrent.futures import Future

    from collectors.serial_link import DeviceState, LineEvent, PortInfo, Reply
    from engine.alerts import AlertRecord
    from engine.config import Config
    from engine.engine import Event, Snapshot
    from engine.series import History
    from engine.span import Span

DeviceListener = Callable[[str, "LineEvent | DeviceState"], None]
"""Told ``(device name, event)`` of every line on a device's wire and every change of state."""
AlertListener = Callable[["AlertRecord"], None]
"""Told of every alert record that is new or finished."""


@dataclass(frozen=True, slots=True)
class Link:
    """Where the engine a view shows runs, and whether it can be reached."""

    mode: str
    """``embedded`` (this process) or ``attached`` (a daemon, over its socket)."""
    pid: int
    """The engine's process."""
    started: float
    """Wall-clock time the engine's process started."""
    connected: bool = True
    """False while an attached view cannot reach its daemon (what it shows is stale)."""
    detail: str = ""
    """Why it is not connected, or the socket it is attached to."""


@dataclass(frozen=True, slots=True)
class AlertInfo:
    """What the Alerts pane says about the alert rules themselves."""

    rules: int
    """How many ``[[alerts]]`` rules there are."""
    locations: int
    """How many map locations are configured."""
    log_path: str
    """The file every action is appended to."""
    log_error: str | None = None
    """Why the last write to that file failed; None when it works."""


class EngineView(Protocol):
    """What a screen needs from a running engine.

    Every method is called from the UI thread at the refresh rate or on a key press, so each
    must answer from memory without blocking on I/O: a remote implementation keeps the latest
    state it was sent and answers from that.
    """

    @property
    def config(self) -> Config:
        """The configuration the engine runs on (refresh rate, detectors per metric, the map's
        locations and their coordinates). Read-only for the UI."""
        ...

    def start(self) -> None:
        """Begin: the embedded engine starts its collector threads; a client would connect.

        Called when the app mounts, and only when the app owns the engine's lifetime. A view
        already started (before the screen, to have readings for its first frame) is not
        started again.
        """
        ...

    def stop(self) -> None:
        """End what ``start`` began (threads joined, or the connection closed); idempotent."""
        ...

    def snapshot(self) -> Snapshot:
        """Return the latest immutable snapshot of every metric, source and recent event.

        The same object is returned until something changes, and ``Snapshot.version`` grows
        with every change, so a caller can skip redrawing an unchanged snapshot.
        """
        ...

    def history(
        self, key: str, count: int | None = None, since: float | None = None,
        until: float | None = None,
    ) -> History:  # fmt: skip
        """Return the recent points of one metric, oldest first.

        Args:
            key: the metric key, e.g. ``system/cpu/total``.
            count: at most this many of the newest points (all that are kept when None).
            since: only points at or after this wall-clock time (from the history store,
                when the engine has one).
            until: only points at or before this wall-clock time.

        Returns:
            Times, values and anomaly flags as arrays; empty for an unknown key.
        """
        ...

    def span(self, key: str, since: float, until: float, points: int) -> Span:
        """Return one metric from ``since`` to ``until`` (wall-clock) as at most ``points``
        points, read from the history tier that fits the span (raw points for hours, rollups
        for days and more; the recent points in memory when there is no history file).

        Unlike every other method this one blocks (it reads the history file, or asks the
        daemon): call it from a worker thread.

        Args:
            key: the metric key.
            since: start of the span, seconds since the epoch.
            until: end of the span.
            points: at most this many points (buckets are merged to fit).

        Raises:
            SpanError: the history could not be read (one line saying why).
        """
        ...

    def events_since(self, seq: int) -> tuple[Event, ...]:
        """Return the events numbered after ``seq``, oldest first.

        Args:
            seq: the ``Event.seq`` of the last event the caller has seen (0 for none).

        Returns:
            The newer events still kept (the engine keeps the last 200).
        """
        ...

    @property
    def link(self) -> Link:
        """Where the engine runs, and whether it answers (for the header)."""
        ...

    def device_states(self) -> tuple[DeviceState, ...]:
        """Return the state of the gong and of the map."""
        ...

    def device_command(self, name: str, line: str) -> Future[Reply]:
        """Send one command to a device, never blocking.

        ``gong`` to the gong strikes it (from a person: the cooldown does not apply);
        ``<location> <status>`` and ``all <status>`` to the map go through the map's driver,
        which checks them and restores them after a reset; any other line goes as it is, once
        checked. The future holds the reply, or ``CommandError`` when nothing was sent.
        """
        ...

    def device_connect(self, name: str, port: str | None = None) -> None:
        """Connect a device (to ``port`` when given) and keep reconnecting it."""
        ...

    def device_disconnect(self, name: str) -> None:
        """Close a device's port and stop reconnecting."""
        ...

    def scan_ports(
        self, on_port: Callable[[PortInfo], None] | None = None
    ) -> Future[list[PortInfo]]:
        """Probe the serial ports for our firmware (never those a device of ours holds).

        Args:
            on_port: told of each port's answer as it comes, from any thread.
        """
        ...

    def add_device_listener(self, listener: DeviceListener) -> None:
        """Tell ``listener`` of every device line and state change, from any thread."""
        ...

    def remove_device_listener(self, listener: DeviceListener) -> None:
        """Stop telling ``listener``."""
        ...

    def alert_records(self) -> list[AlertRecord]:
        """Return the recent actions the alert rules fired, oldest first."""
        ...

    def alert_info(self) -> AlertInfo:
        """Return what the Alerts pane says about the rules and their log."""
        ...

    def add_alert_listener(self, listener: AlertListener) -> None:
        """Tell ``listener`` of every new or finished alert record, from any thread."""
        ...

    def remove_alert_listener(self, listener: AlertListener) -> None:
        """Stop telling ``listener``."""
        ...
