"""Provides the device threads that reconnect with backoff, and the ``Gong`` and ``Map``
drivers on top of them."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace

from collectors.serial_link.link import (
    BAUD,
    CommandError,
    DeviceGone,
    LineEvent,
    Reply,
    SerialLink,
    SerialLinkError,
    all_command,
    check_line,
    map_command,
)


@dataclass(frozen=True, slots=True)
class DeviceState:
    """How a device's connection stands."""

    name: str
    port: str | None
    status: str = "idle"
    """``idle`` (never asked to connect), ``connecting``, ``connected``, ``retrying``
    (lost; the next try is due), or ``disconnected`` (by request)."""
    kind: str | None = None
    version: str | None = None
    detail: str = ""
    """The last problem, or what is connected."""


Listener = Callable[[LineEvent | DeviceState], None]


@dataclass(frozen=True, slots=True)
class _Job:
    """Work for a device's thread."""

    op: str
    """``connect``, ``disconnect`` or ``command``."""
    arg: str | None = None
    """The port to connect to, or the command line."""
    future: Future[Reply] | None = None


class Device:
    """A device served by its own thread: commands queue up and run one at a time, so the
    caller never waits on the wire, and a lost link is reopened with growing backoff."""

    def __init__(
        self,
        name: str,
        port: str | None = None,
        baud: int = BAUD,
        *,
        reply_timeout: float = 2.0,
        ready_timeout: float | None = None,
        backoff: tuple[float, float] = (0.5, 30.0),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """Args:
        name: ``gong`` or ``map`` (the firmware expected on the port).
        port: path of the port; None until one is chosen.
        baud: line speed.
        reply_timeout: seconds to wait for each reply.
        ready_timeout: seconds to wait for ``ready`` after opening (None: by port kind).
        backoff: first and longest wait between reconnect attempts, seconds.
        monotonic: clock for the backoff schedule.
        """
        self.name, self.baud = name, baud
        self._timeouts = (reply_timeout, ready_timeout)
        self._backoff, self._delay = backoff, backoff[0]
        self._monotonic = monotonic
        self._state = DeviceState(name, port)
        self._listeners: list[Listener] = []
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._wanted = False
        self._retry_at = 0.0
        self._link: SerialLink | None = None
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> DeviceState:
        """The current connection state."""
        return self._state

    def add_listener(self, listener: Listener) -> None:
        """Tell ``listener`` of every line and state change (called in the device's thread)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Listener) -> None:
        """Stop telling ``listener``."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, event: LineEvent | DeviceState) -> None:
        for listener in list(self._listeners):
            listener(event)

    def _set(self, **changes: object) -> None:
        self._state = replace(self._state, **changes)  # type: ignore[arg-type]
        self._emit(self._state)

    def start(self) -> None:
        """Start the device's thread, and connect if a port is configured."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=f"device-{self.name}")
            self._thread.daemon = True
            self._thread.start()
        if self._state.port:
            self.connect()

    def stop(self, timeout: float = 3.0) -> None:
        """Close the port and stop the thread; queued commands fail."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout)
            self._thread = None

    def connect(self, port: str | None = None) -> None:
        """Connect (to ``port`` if given), and keep reconnecting until ``disconnect``."""
        self._jobs.put(_Job("connect", port))

    def disconnect(self) -> None:
        """Close the port and stop reconnecting."""
        self._jobs.put(_Job("disconnect"))

    def submit(self, line: str) -> Future[Reply]:
        """Queue a command; the future holds its reply or the error. Never blocks."""
        future: Future[Reply] = Future()
        try:
            self._jobs.put(_Job("command", check_line(line), future))
        except CommandError as exc:
            future.set_exception(exc)
        return future

    def call(self, line: str, timeout: float = 10.0) -> Reply:
        """Send a command and wait for its reply (not on a UI or collector thread)."""
        return self.submit(line).result(timeout)

    def _run(self) -> None:
        while True:
            wait = None
            if self._wanted and self._link is None:
                wait = max(0.0, self._retry_at - self._monotonic())
                if wait == 0.0:
                    self._open()
                    continue
            try:
                job = self._jobs.get(timeout=wait)
            except queue.Empty:
                continue
            if job is None:
                break
            self._handle(job)
        self._close("disconnected", "stopped")
        while not self._jobs.empty():
            if (job := self._jobs.get_nowait()) is not None and job.future is not None:
                job.future.set_exception(DeviceGone(f"{self.name} stopped"))

    def _handle(self, job: _Job) -> None:
        if job.op == "connect":
            if self._link is not None:
                self._link.close()
                self._link = None
            self._wanted, self._retry_at, self._delay = True, 0.0, self._backoff[0]
            self._state = replace(self._state, port=job.arg or self._state.port)
            return
        if job.op == "disconnect":
            self._wanted = False
            self._close("disconnected", "disconnected by request")
            return
        future, line = job.future, job.arg
        if future is None or line is None or not future.set_running_or_notify_cancel():
            return
        if self._link is None and self._wanted and self._monotonic() >= self._retry_at:
            self._open()
        if self._link is None:
            why = f" ({self._state.detail})" if self._state.detail else ""
            future.set_exception(DeviceGone(f"{self.name} is not connected{why}"))
            return
        try:
            future.set_result(self._link.command(line))
        except DeviceGone as exc:
            self._lost(str(exc))
            future.set_exception(exc)
        except SerialLinkError as exc:
            future.set_exception(exc)
        except Exception as exc:  # a bug fails this command, not the device's thread
            self._lost(f"internal error: {type(exc).__name__}: {exc}")
            future.set_exception(exc)

    def _open(self) -> None:
        port = self._state.port
        if not port:
            self._wanted = False
            self._set(status="idle", detail="no port chosen")
            return
        self._set(status="connecting", detail=f"opening {port}")
        reply_timeout, ready_timeout = self._timeouts
        link = SerialLink(port, self.baud, reply_timeout=reply_timeout,
                          ready_timeout=ready_timeout, on_line=self._emit)  # fmt: skip
        try:
            link.open()
        except SerialLinkError as exc:
            self._lost(str(exc))
            return
        self._link, self._delay = link, self._backoff[0]
        detail = f"{link.kind} {link.version}"
        if link.kind != self.name:
            detail += f" (expected {self.name} firmware)"
        self._set(status="connected", kind=link.kind, version=link.version, detail=detail)

    def _lost(self, why: str) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None
        self._retry_at = self._monotonic() + self._delay
        self._set(status="retrying", detail=f"{why}; retrying in {self._delay:g} s")
        self._delay = min(self._delay * 2, self._backoff[1])

    def _close(self, status: str, detail: str) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None
        self._set(status=status, detail=detail)


class Gong:
    """Strikes the gong, at most once per cooldown, so a storm of alerts rings once."""

    def __init__(
        self, device: Device, cooldown: float = 5.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.device, self.cooldown, self._monotonic = device, cooldown, monotonic
        self._last: float | None = None
        self._lock = threading.Lock()

    def strike(self, *, force: bool = False) -> Future[Reply] | None:
        """Queue a strike; return None (nothing sent) while cooling down, unless ``force``."""
        with self._lock:
            now = self._monotonic()
            if not force and self._last is not None and now - self._last < self.cooldown:
                return None
            self._last = now
        return self.device.submit("gong")


class Map:
    """Sets the LEDs of the world map, and restores them when the board comes back."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self._all: str | None = None
        self._locations: dict[str, str] = {}
        self._shown = False
        """Whether the board shows something it was told on the current link."""
        self._dirty = False
        """Whether the board may be showing something else than it was told."""
        self._lock = threading.Lock()
        device.add_listener(self._on_event)

    def set(self, location: str, status: str) -> Future[Reply]:
        """Show ``status`` (up/slow/down/off) at ``location``; raise ``CommandError`` if invalid."""
        line = map_command(location, status)
        with self._lock:
            self._locations[location] = status
        return self._submit(line)

    def all(self, status: str) -> Future[Reply]:
        """Show ``status`` (up/slow/down/off) everywhere; raise ``CommandError`` if invalid."""
        line = all_command(status)
        with self._lock:
            self._all, self._locations = status, {}
        return self._submit(line)

    def _submit(self, line: str) -> Future[Reply]:
        future = self.device.submit(line)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future[Reply]) -> None:
        with self._lock:
            if future.cancelled() or future.exception() is not None:
                self._dirty = True
            else:
                self._shown = True

    def _on_event(self, event: LineEvent | DeviceState) -> None:
        # Opening the port resets the board and blanks its LEDs: show again what was lost.
        if not isinstance(event, DeviceState):
            return
        with self._lock:
            if event.status != "connected":
                self._dirty, self._shown = self._dirty or self._shown, False
                return
            if not self._dirty:
                return
            self._dirty = False
            lines = [all_command(self._all)] if self._all else []
            lines += [map_command(loc, st) for loc, st in self._locations.items()]
        for line in lines:
            self._submit(line)
