"""Provides the device threads: commands run one at a time off the caller's thread, a lost link
is reopened with growing backoff, and a command may wait a bounded time for the board."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace

from collectors.serial_link.link import (
    BAUD,
    DeviceGone,
    LineEvent,
    Reply,
    SerialLink,
    SerialLinkError,
)
from collectors.serial_link.protocol import CommandError, check_command


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
    locations: frozenset[str] | None = None
    """The map's location names, as the board told them; None when it did not."""


Listener = Callable[[LineEvent | DeviceState], None]


@dataclass(frozen=True, slots=True)
class _Job:
    """Work for a device's thread."""

    op: str
    """``connect``, ``disconnect`` or ``command``."""
    arg: str | None = None
    """The port to connect to, or the command line."""
    future: Future[Reply] | None = None
    until: float | None = None
    """Monotonic time until which a command waits for the board to be connected; None fails
    it at once when the board is not."""


class CommandAbandoned(DeviceGone):
    """A command waited for its board to connect and gave up; it was never sent."""


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
        self._held: list[_Job] = []
        """Commands waiting for the board to connect, oldest first."""
        self._greeters: list[Callable[[], list[str]]] = []

    @property
    def state(self) -> DeviceState:
        """The current connection state."""
        return self._state

    def add_listener(self, listener: Listener) -> None:
        """Tell ``listener`` of every line and state change (called in the device's thread)."""
        self._listeners.append(listener)

    def on_connect(self, greeter: Callable[[], list[str]]) -> None:
        """Send the commands ``greeter`` returns each time the board (re)connects, before any
        other command (called in the device's thread)."""
        self._greeters.append(greeter)

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

    def submit(self, line: str, *, wait: float = 0.0) -> Future[Reply]:
        """Queue a command; the future holds its reply or the error. Never blocks.

        Args:
            line: the command, checked against the protocol of this device's firmware.
            wait: seconds the command may wait for the board to be connected (it is being
                opened, or reopened after a loss) before it is abandoned with
                ``CommandAbandoned``; 0 fails it at once when the board is not connected.
                A command waits only while the device is trying to connect.
        """
        future: Future[Reply] = Future()
        try:
            text = check_command(line, self.name, self._state.locations)
        except CommandError as exc:
            future.set_exception(exc)
            return future
        until = self._monotonic() + wait if wait > 0 else None
        self._jobs.put(_Job("command", text, future, until))
        return future

    def call(self, line: str, timeout: float = 10.0) -> Reply:
        """Send a command and wait for its reply (not on a UI or collector thread)."""
        return self.submit(line).result(timeout)

    def _run(self) -> None:
        while True:
            self._expire()
            waits = [max(0.0, j.until - self._monotonic()) for j in self._held if j.until]
            if self._wanted and self._link is None:
                waits.append(max(0.0, self._retry_at - self._monotonic()))
                if waits[-1] == 0.0:
                    self._open()
                    continue
            try:
                job = self._jobs.get(timeout=min(waits) if waits else None)
            except queue.Empty:
                continue
            if job is None:
                break
            self._handle(job)
        self._close("disconnected", "stopped")
        self._drop_held("stopped")
        while not self._jobs.empty():
            if (job := self._jobs.get_nowait()) is not None and job.future is not None:
                job.future.set_exception(DeviceGone(f"{self.name} stopped"))

    def _expire(self) -> None:
        """Abandon the held commands whose wait is over, and say so in the log."""
        now = self._monotonic()
        late = [j for j in self._held if j.until is not None and j.until <= now]
        if late:
            self._held = [j for j in self._held if j not in late]
            why = self._state.detail or self._state.status
            for job in late:
                self._abandon(job, f"{self.name} not connected in time ({why})")

    def _drop_held(self, why: str) -> None:
        held, self._held = self._held, []
        for job in held:
            self._abandon(job, why)

    def _abandon(self, job: _Job, why: str) -> None:
        text = f"{job.arg!r} abandoned, never sent: {why}"
        self._emit(LineEvent(time.time(), self._state.port or "", "error", text))
        if job.future is not None:
            job.future.set_exception(CommandAbandoned(text))

    def _handle(self, job: _Job) -> None:
        if job.op == "connect":
            if self._link is not None:
                self._link.close()
                self._link = None
            self._wanted, self._retry_at, self._delay = True, 0.0, self._backoff[0]
            # Until the board answers, nothing is known of its firmware (it may be another port).
            port = job.arg or self._state.port
            self._state = replace(self._state, port=port, kind=None, version=None, locations=None)
            return
        if job.op == "disconnect":
            self._wanted = False
            self._close("disconnected", "disconnected by request")
            self._drop_held("disconnected by request")
            return
        future = job.future
        if future is None or job.arg is None or not future.set_running_or_notify_cancel():
            return
        self._command(job, future, job.arg)

    def _command(self, job: _Job, future: Future[Reply], line: str) -> None:
        if self._link is None and self._wanted and self._monotonic() >= self._retry_at:
            self._open()
        if self._link is None:
            if self._may_wait(job):
                self._held.append(job)
                return
            why = f" ({self._state.detail})" if self._state.detail else ""
            future.set_exception(DeviceGone(f"{self.name} is not connected{why}"))
            return
        try:
            future.set_result(self._link.command(line))
        except DeviceGone as exc:
            self._lost(exc.reason)
            if not exc.sent and self._may_wait(job):
                self._held.append(job)  # it never left: it goes out after the reconnect
            else:
                future.set_exception(exc)
        except SerialLinkError as exc:
            future.set_exception(exc)
        except Exception as exc:  # a bug fails this command, not the device's thread
            self._lost(f"internal error: {type(exc).__name__}: {exc}")
            future.set_exception(exc)

    def _may_wait(self, job: _Job) -> bool:
        """Whether a command may wait for the board: it asked to, and a connection is coming."""
        return self._wanted and job.until is not None and self._monotonic() < job.until

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
            locations = link.read_locations() if link.kind == "map" else None
        except SerialLinkError as exc:
            link.close()
            self._lost(exc.reason)
            return
        self._link, self._delay = link, self._backoff[0]
        detail = f"{link.kind} {link.version}"
        if link.kind != self.name:
            detail += f" (expected {self.name} firmware)"
        self._set(status="connected", kind=link.kind, version=link.version, detail=detail,
                  locations=locations)  # fmt: skip
        self._greet()
        held, self._held = self._held, []
        for job in held:  # what waited for the board goes out now, in order
            if job.future is not None and job.arg is not None:
                self._command(job, job.future, job.arg)

    def _greet(self) -> None:
        for line in [line for greeter in self._greeters for line in greeter()]:
            if self._link is None:
                return
            try:
                self._link.command(line)
            except DeviceGone as exc:
                self._lost(exc.reason)
            except SerialLinkError:
                continue  # a timeout, logged by the link; the next line may still get through

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
