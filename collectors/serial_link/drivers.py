"""Provides the ``Gong`` and ``Map`` drivers: what the monitor wants of each board, on top of
the device threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from functools import partial

from collectors.serial_link.devices import Device
from collectors.serial_link.link import Reply
from collectors.serial_link.protocol import (
    CommandError,
    all_command,
    check_command,
    map_command,
)

STRIKE_WAIT = 30.0
"""Seconds an alert's strike waits for the gong to connect (the board resets when its port is
opened, and a lost board is reopened with backoff) before it is abandoned, saying why."""


def _acknowledged(future: Future[Reply]) -> bool:
    """Whether a command went out and the board said ``ok``."""
    return not future.cancelled() and future.exception() is None and future.result().ok


class Gong:
    """Strikes the gong, at most once per cooldown, so a storm of alerts rings once.

    The cooldown starts when the board acknowledges a strike: one that fails (the gong is not
    connected, a write error, an ``err`` reply) leaves the next alert free to ring. A strike
    asked for while the board is being (re)connected waits for it, up to ``deliver_within``.
    """

    def __init__(
        self,
        device: Device,
        cooldown: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        deliver_within: float = STRIKE_WAIT,
    ) -> None:
        """Args:
        device: the gong's device thread.
        cooldown: seconds after an acknowledged strike in which alerts do not strike again.
        monotonic: clock for the cooldown.
        deliver_within: seconds a strike waits for the board to connect.
        """
        self.device, self.cooldown, self._monotonic = device, cooldown, monotonic
        self.deliver_within = deliver_within
        self._last: float | None = None
        """When the board last acknowledged a strike."""
        self._pending: Future[Reply] | None = None
        self._lock = threading.Lock()

    def strike(self, *, force: bool = False) -> Future[Reply] | None:
        """Ask for a strike; return its future, or None (nothing sent) while cooling down.

        An alert's strike asked for while another is on its way joins it (the same future is
        returned), so the gong rings once. ``force`` (a test from the keyboard) ignores the
        cooldown and is sent at once, or fails at once when the gong is not connected.
        """
        with self._lock:
            if force:
                future = self.device.submit("gong")
            elif self._pending is not None and not self._pending.done():
                return self._pending
            elif self._last is not None and self._monotonic() - self._last < self.cooldown:
                return None
            else:
                future = self.device.submit("gong", wait=self.deliver_within)
                self._pending = future
        future.add_done_callback(self._struck)
        return future

    def _struck(self, future: Future[Reply]) -> None:
        if _acknowledged(future):
            with self._lock:
                self._last = self._monotonic()


class Map:
    """Keeps the desired colour of every LED of the world map, and shows exactly that again
    whenever the board (re)connects (opening the port resets it, which blanks the LEDs).

    The desired state changes only through ``set`` and ``all`` (the monitor's remote statuses
    and alert rules), and only by commands the board accepts: one it answers with ``err`` is
    dropped. ``test`` sends a command from the keyboard without changing the desired state, so
    a test never outlives the next reconnect.
    """

    def __init__(self, device: Device) -> None:
        self.device = device
        self._base: str | None = None
        """Status of every location not named in ``_locations`` (set by ``all``)."""
        self._locations: dict[str, str] = {}
        self._lock = threading.Lock()
        device.on_connect(self.restore_lines)

    def desired(self) -> tuple[str | None, dict[str, str]]:
        """Return the desired state: the status of ``all`` (or None), and per location."""
        with self._lock:
            return self._base, dict(self._locations)

    def set(self, location: str, status: str) -> Future[Reply]:
        """Show ``status`` (up/slow/down/off) at ``location``; raise ``CommandError`` if invalid."""
        known = self.device.state.locations
        return self._send(map_command(location, status, known), location, status)

    def all(self, status: str) -> Future[Reply]:
        """Show ``status`` (up/slow/down/off) everywhere; raise ``CommandError`` if invalid."""
        return self._send(all_command(status), None, status)

    def test(self, line: str) -> Future[Reply]:
        """Send any map command from the keyboard; the desired state is left as it is."""
        return self.device.submit(check_command(line, "map", self.device.state.locations))

    def restore_lines(self) -> list[str]:
        """Return the commands that show the desired state on a board that may show anything."""
        base, locations = self.desired()
        if base is None and not locations:
            return []  # a reset board is dark, which is what nothing desired looks like
        return [all_command(base or "off")] + [map_command(k, v) for k, v in locations.items()]

    def _send(self, line: str, location: str | None, status: str) -> Future[Reply]:
        future = self.device.submit(line)
        future.add_done_callback(partial(self._answered, location, status))
        return future

    def _answered(self, location: str | None, status: str, future: Future[Reply]) -> None:
        # Called in the device's thread, in the order the commands ran. A command the board
        # refused (a location it does not have) changes nothing; one that did not get through
        # is still wanted, and goes out on the next connect.
        exc = None if future.cancelled() else future.exception()
        if future.cancelled() or isinstance(exc, CommandError):
            return
        if exc is None and not future.result().ok:
            return
        with self._lock:
            if location is None:
                self._base, self._locations = status, {}
            else:
                self._locations[location] = status
