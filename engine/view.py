"""Provides ``EngineView``: everything the UI reads from the engine and asks of it.

The TUI depends on this protocol, never on the concrete ``Engine``, so it cannot tell whether
the engine runs in its own process (the embedded case, ``engine.Engine`` itself) or in a
daemon it is attached to (a client that implements the same methods over a socket).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from engine.config import Config
    from engine.engine import Event, Snapshot
    from engine.series import History


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

        Called once when the app mounts, and only when the app owns the engine's lifetime.
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

    def history(self, key: str, count: int | None = None) -> History:
        """Return the recent points of one metric, oldest first.

        Args:
            key: the metric key, e.g. ``system/cpu/total``.
            count: at most this many of the newest points (all that are kept when None).

        Returns:
            Times, values and anomaly flags as arrays; empty for an unknown key.
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
