"""Provides ``RemoteEngineView``: ``EngineView`` over the daemon's socket.

The UI thread never waits on the socket: a background thread polls the daemon at the refresh
rate and keeps the latest snapshot, events, device log and alert records in memory, and every
method answers from there. Sparklines come from a series store the client fills itself from
the snapshots, seeded once per metric with the daemon's recent points.
"""

from __future__ import annotations

import contextlib
import dataclasses
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from collectors.serial_link import (
    CommandError,
    DeviceGone,
    DeviceState,
    LineEvent,
    PortInfo,
    Reply,
    SerialLinkError,
)
from engine import wire
from engine.alerts import AlertRecord
from engine.config import Config, ConfigError
from engine.config_daemon import TOKEN_HEADER
from engine.config_reader import parse
from engine.engine import Event, Snapshot
from engine.link import Answer, Connection, LinkError
from engine.series import History, SeriesStore
from engine.span import Span, SpanError
from engine.view import AlertInfo, AlertListener, DeviceListener, Link
from engine.wire_changes import SnapshotReader

PROBE_TIMEOUT = 1.0
"""Seconds ``attach`` waits for a daemon to answer before the screen runs its own engine."""
REQUEST_TIMEOUT = 3.0
"""Seconds a poll waits for the daemon."""
COMMAND_TIMEOUT = 20.0
"""Seconds a device command or a port scan waits (the daemon waits for the board)."""
STATUS_EVERY = 10
"""Polls between two fetches of the daemon's status (a new daemon shows in every answer's
``Gongwatch-Pid`` header; the status says what the device log cannot: why a port is held)."""
SPAN_TIMEOUT = 30.0
"""Seconds a chart waits for the daemon to read a span (a month of rollups off a busy disk)."""
PID_HEADER = "Gongwatch-Pid"
ERRORS: dict[str, type[Exception]] = {"CommandError": CommandError, "DeviceGone": DeviceGone}


Target = Path | str
"""Where a daemon answers: its Unix socket, or the ``http://host:port`` of ``[daemon] listen``."""


def is_url(target: Target) -> bool:
    """Whether ``target`` is an http(s) URL rather than a socket's path."""
    return isinstance(target, str) and target.startswith(("http://", "https://"))


def _client(target: Target, timeout: float, token: str | None = None) -> httpx.Client:
    if is_url(target):
        headers = {TOKEN_HEADER: f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=str(target).rstrip("/"), timeout=timeout, headers=headers)
    transport = httpx.HTTPTransport(uds=str(target))
    return httpx.Client(transport=transport, base_url="http://gongwatch", timeout=timeout)


class RemoteEngineView:
    """An attached view of a daemon; implements ``EngineView``."""

    def __init__(
        self, socket: Target, config: Config, status: dict[str, Any], token: str | None = None
    ) -> None:
        """Use ``attach``, which finds out whether a daemon answers first, or ``waiting``."""
        self.socket, self.config, self.token = socket, config, token
        self._status = status
        self._connected, self._detail = bool(status.get("pid")), str(socket)
        self._snapshot = Snapshot(0)
        self._decoder = SnapshotReader()
        """Rebuilds the daemon's snapshots; holds what the daemon sent last, without this
        client's own events."""
        self._store = SeriesStore(config.history)
        self._seeded: set[str] = set()
        self._spans: dict[tuple[str, int | None, float | None, float | None], History] = {}
        self._wanted: queue.Queue[tuple[str, int | None, float | None, float | None]] = (
            queue.Queue()
        )
        self._events: list[Event] = []
        self._event_offset = self._last_daemon_seq = 0
        self._devices = tuple(wire.unflat(DeviceState, d) for d in status.get("devices", ()))
        self._polls = 0
        self._log_seq, self._alert_change = 0, -1
        self._records: list[AlertRecord] = []
        self._info = AlertInfo(0, 0, "")
        self._device_listeners: list[DeviceListener] = []
        self._alert_listeners: list[AlertListener] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        """Set when the screen asks for a history the background thread has to fetch."""
        self._thread: threading.Thread | None = None
        self._poller: Connection | None = None
        """The connection polls go over, kept open (see ``engine.link``)."""
        self._commands: ThreadPoolExecutor | None = None
        self._scans: ThreadPoolExecutor | None = None
        self._reader: httpx.Client | None = None
        """The connection charts read spans over, kept: making one costs more than a read."""
        self._reader_lock = threading.Lock()

    @classmethod
    def waiting(cls, target: Target, local: Config, token: str | None = None) -> RemoteEngineView:
        """Return a view of a daemon that may not answer yet: it shows nothing until it does,
        on this screen's configuration."""
        return cls(target, local, {"pid": 0, "started": 0.0, "devices": []}, token)

    @classmethod
    def attach(
        cls, socket: Target, local: Config, token: str | None = None
    ) -> RemoteEngineView | None:
        """Return a view of the daemon on ``socket``, or None when no daemon answers there.

        Args:
            socket: the daemon's socket, or the URL of its TCP address.
            local: this screen's configuration: its refresh rate is kept, the rest comes from
                the daemon's (what the daemon runs on is what is shown).
            token: the daemon's token, for a URL.
        """
        try:
            with _client(socket, PROBE_TIMEOUT, token) as c:
                status = c.get("/v1/status").raise_for_status().json()
                conf = c.get("/v1/config").raise_for_status().json()
        except (httpx.HTTPError, ValueError):
            return None
        try:
            config = parse(conf["text"], conf["source"]) if conf["text"] else Config()
        except ConfigError:
            config = local  # a daemon of another version: its file still drives it
        config = dataclasses.replace(config, refresh=local.refresh)
        return cls(socket, config, status, token)

    # -- lifetime -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start polling the daemon in the background."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._poller = Connection(self.socket, REQUEST_TIMEOUT, self.token)
        with self._reader_lock:
            self._reader = self._reader or _client(self.socket, SPAN_TIMEOUT, self.token)
        # Commands go in order, one at a time; a port scan (seconds) never holds them up.
        self._commands = ThreadPoolExecutor(max_workers=1, thread_name_prefix="daemon-command")
        self._scans = ThreadPoolExecutor(max_workers=1, thread_name_prefix="daemon-scan")
        self._thread = threading.Thread(target=self._run, name="daemon-poll", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling and close the connection (idempotent)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(REQUEST_TIMEOUT + 1.0)
            self._thread = None
        for pool in (self._commands, self._scans):
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        self._commands = self._scans = None
        if self._poller is not None:
            self._poller.close()
            self._poller = None
        with self._reader_lock:
            if self._reader is not None:
                self._reader.close()
                self._reader = None

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except (LinkError, ValueError, KeyError) as exc:
                self._lost(exc)
            self._rest()

    def _rest(self) -> None:
        """Wait for the next poll; fetch at once the histories the screen asks for meanwhile
        (the first frame's sparklines do not wait a refresh period for them)."""
        deadline = time.monotonic() + self.config.refresh
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or not self._wake.wait(left):
                return
            self._wake.clear()
            if self._stop.is_set() or self._poller is None:
                return
            try:
                self._fetch_wanted(self._poller)
            except (LinkError, ValueError, KeyError) as exc:
                self._lost(exc)
                return

    def _lost(self, exc: Exception) -> None:
        why = str(exc) or type(exc).__name__
        with self._lock:
            if self._connected:
                self._add_event("daemon", "error", f"daemon not answering on {self.socket}: {why}")
            self._connected, self._detail = False, why

    def poll_once(self) -> None:
        """Fetch what changed from the daemon (the background thread calls this).

        Raises:
            LinkError: the daemon did not answer.
        """
        c = self._poller
        assert c is not None
        self._polls += 1
        got = self._changes(c)
        pid = int(got.headers.get(PID_HEADER.lower(), "0"))
        if pid != self._status["pid"] or not self._connected or self._polls % STATUS_EVERY == 0:
            status = c.get("/v1/status").raise_for_status().json()
            if self._reconnected(status):
                got = self._changes(c)  # numbered anew: ask for everything
            self._devices = tuple(wire.unflat(DeviceState, d) for d in status["devices"])
        changes = got.json()
        if changes["snapshot"] is not None:
            try:
                snap = self._decoder.read(changes["snapshot"])
            except ValueError:
                self._decoder.forget()  # the next poll asks for the whole snapshot
                raise
            self._take_snapshot(snap)
        self._tell_devices([wire.device_line_from(e) for e in changes["log"]])
        if changes["alerts"] is not None:
            self._take_alerts(changes["alerts"])
        self._fetch_wanted(c)

    def _changes(self, c: Connection) -> Answer:
        # Only the metrics that changed since the version held come, and only the newer events.
        params = {
            "since_version": self._decoder.snapshot.version,
            "events_since": self._last_daemon_seq,
            "log_since": self._log_seq,
            "alerts_since": self._alert_change,
            "cells": 1,
        }
        return c.get("/v1/changes", params=params).raise_for_status()

    def _reconnected(self, status: dict[str, Any]) -> bool:
        """Take a new status; return whether it comes from another daemon than the last."""
        new = bool(status["pid"] != self._status["pid"])
        with self._lock:
            if new:
                # A new daemon numbers everything from the start again.
                self._snapshot = Snapshot(0)
                self._decoder.forget()
                self._log_seq, self._alert_change = 0, -1
                self._event_offset, self._last_daemon_seq = self._next_seq(), 0
                self._seeded.clear()
            if not self._connected:
                self._add_event("daemon", "info", f"daemon pid {status['pid']} answers again")
            self._status, self._connected, self._detail = status, True, str(self.socket)
        return new

    def _take_snapshot(self, snap: Snapshot) -> None:
        old = self._snapshot.metrics
        for key, st in snap.metrics.items():
            prev = old.get(key)
            if prev is st or key not in self._seeded:
                # Unchanged since the last poll (the same object), or a series no one has
                # looked at: its history comes from the daemon when it is first asked for.
                continue
            r = st.reading
            if r.value is not None and (prev is None or prev.reading.time != r.time):
                self._store.append(key, r.time, r.value, st.verdict.anomalous)
        with self._lock:
            for e in snap.events:
                if e.seq > self._last_daemon_seq:
                    self._events.append(dataclasses.replace(e, seq=e.seq + self._event_offset))
                    self._last_daemon_seq = e.seq
            del self._events[:-200]
            events = tuple(self._events)
            self._snapshot = dataclasses.replace(snap, events=events)

    def _next_seq(self) -> int:
        return self._events[-1].seq if self._events else 0

    def _add_event(self, source: str, level: str, text: str) -> None:
        """Add an event of the client's own (under the lock), numbered after the daemon's."""
        self._event_offset += 1
        self._events.append(Event(self._next_seq() + 1, time.time(), source, level, text))
        snap = self._snapshot
        self._snapshot = dataclasses.replace(
            snap, version=snap.version, events=tuple(self._events[-200:])
        )

    def _tell_devices(self, entries: list[tuple[int, str, LineEvent | DeviceState]]) -> None:
        for seq, name, event in entries:
            self._log_seq = max(self._log_seq, seq)
            if isinstance(event, DeviceState):
                self._devices = tuple(event if d.name == name else d for d in self._devices)
            for listener in list(self._device_listeners):
                listener(name, event)

    def _take_alerts(self, data: dict[str, Any]) -> None:
        records = [wire.unflat(AlertRecord, r) for r in data["records"]]
        known = {(r.id, r.result) for r in self._records}
        with self._lock:
            self._records, self._alert_change = records, data["change"]
            self._info = AlertInfo(**data["info"])
        for rec in records:
            if (rec.id, rec.result) not in known:
                for listener in list(self._alert_listeners):
                    listener(rec)

    def _fetch_wanted(self, c: Connection) -> None:
        while True:
            try:
                key, count, since, until = self._wanted.get_nowait()
            except queue.Empty:
                return
            params: dict[str, str | int | float] = {"key": key, "count": count or 0}
            params |= {k: v for k, v in (("since", since), ("until", until)) if v is not None}
            hist = wire.history_from(c.get("/v1/history", params=params).raise_for_status().json())
            if since is None and until is None:
                self._seed(key, hist)
            else:
                self._spans[(key, count, since, until)] = hist

    def _seed(self, key: str, hist: History) -> None:
        mine = self._store.tail(key)
        newer = mine.t > (hist.t[-1] if len(hist) else -1.0)
        self._store.load(
            key,
            History(
                _cat(hist.t, mine.t[newer]), _cat(hist.x, mine.x[newer]),
                _cat(hist.anomalous, mine.anomalous[newer]),
            ),
        )  # fmt: skip

    # -- what the screen reads ----------------------------------------------------------------

    @property
    def daemon_name(self) -> str | None:
        """What the daemon calls its host (``[daemon] name``); None before it answers."""
        return self._status.get("name") or None

    @property
    def link(self) -> Link:
        """The daemon, and whether it answers."""
        s = self._status
        return Link("attached", s["pid"], s["started"], self._connected, self._detail)

    def snapshot(self) -> Snapshot:
        """The latest snapshot the daemon sent."""
        return self._snapshot

    def history(
        self, key: str, count: int | None = None, since: float | None = None,
        until: float | None = None,
    ) -> History:  # fmt: skip
        """What is cached of one metric; a first ask fetches the rest in the background."""
        if since is not None or until is not None:
            span = (key, count, since, until)
            if span not in self._spans:
                self._wanted.put(span)
                self._wake.set()
                return self._store.tail("", 0)
            return self._spans[span]
        if key not in self._seeded:
            self._seeded.add(key)
            self._wanted.put((key, self.config.history, None, None))
            self._wake.set()
        return self._store.tail(key, count)

    def span(self, key: str, since: float, until: float, points: int) -> Span:
        """Ask the daemon for one metric over a span of time, from its history file; blocks
        until it answers (call it from a worker).

        Raises:
            SpanError: the daemon did not answer, or could not read its file.
        """
        params = {"key": key, "since": repr(since), "until": repr(until), "points": str(points)}
        with self._reader_lock:
            if self._reader is None:
                self._reader = _client(self.socket, SPAN_TIMEOUT, self.token)
            reader = self._reader
        try:
            got = reader.get("/v1/history", params=params)
            data = got.json()
        except httpx.HTTPError as exc:
            why = str(exc) or type(exc).__name__
            raise SpanError(f"daemon not answering on {self.socket}: {why}") from None
        except ValueError:
            raise SpanError(f"the daemon's answer is not JSON (HTTP {got.status_code})") from None
        if got.status_code != 200:
            error = data.get("error") if isinstance(data, dict) else None
            raise SpanError(str(error or f"the daemon answered HTTP {got.status_code}"))
        try:
            return wire.span_from(data)
        except (KeyError, TypeError, ValueError):
            raise SpanError("the daemon sends no spans (an older gongwatch?)") from None

    def events_since(self, seq: int) -> tuple[Event, ...]:
        """The events after ``seq`` (the daemon's, and this client's own about the link)."""
        return tuple(e for e in self._snapshot.events if e.seq > seq)

    # -- devices ------------------------------------------------------------------------------

    def device_states(self) -> tuple[DeviceState, ...]:
        """The daemon's devices, as of the last poll."""
        return self._devices

    def _submit(self, work: Callable[[httpx.Client], Any], scan: bool = False) -> Future[Any]:
        def run() -> Any:
            with _client(self.socket, COMMAND_TIMEOUT, self.token) as c:
                return work(c)

        pool = self._scans if scan else self._commands
        if pool is None:
            future: Future[Any] = Future()
            future.set_exception(DeviceGone("not attached to the daemon"))
            return future
        return pool.submit(run)

    def device_command(self, name: str, line: str) -> Future[Reply]:
        """Send a command through the daemon; the future holds the reply or the error."""

        def send(c: httpx.Client) -> Reply:
            try:
                got = c.post(f"/v1/devices/{name}/command", json={"line": line})
            except httpx.HTTPError as exc:
                raise DeviceGone(f"daemon not answering: {exc}") from None
            data = got.json()
            if got.status_code != 200:
                raise ERRORS.get(data.get("kind", ""), SerialLinkError)(data.get("error", ""))
            return wire.unflat(Reply, data)

        return self._submit(send)

    def device_connect(self, name: str, port: str | None = None) -> None:
        """Ask the daemon to connect a device."""
        self._submit(lambda c: c.post(f"/v1/devices/{name}/connect", json={"port": port}))

    def device_disconnect(self, name: str) -> None:
        """Ask the daemon to disconnect a device."""
        self._submit(lambda c: c.post(f"/v1/devices/{name}/disconnect"))

    def scan_ports(
        self, on_port: Callable[[PortInfo], None] | None = None
    ) -> Future[list[PortInfo]]:
        """Ask the daemon to probe the ports of its machine (``on_port`` hears of each port
        when the whole scan is back)."""

        def scan(c: httpx.Client) -> list[PortInfo]:
            got = c.get("/v1/ports").raise_for_status()
            found = [wire.unflat(PortInfo, p) for p in got.json()]
            for info in found if on_port is not None else ():
                on_port(info)  # type: ignore[misc]
            return found

        return self._submit(scan, scan=True)

    def add_device_listener(self, listener: DeviceListener) -> None:
        """Tell ``listener`` of the daemon's device lines (from the polling thread)."""
        self._device_listeners.append(listener)

    def remove_device_listener(self, listener: DeviceListener) -> None:
        """Stop telling ``listener``."""
        with contextlib.suppress(ValueError):
            self._device_listeners.remove(listener)

    # -- alerts -------------------------------------------------------------------------------

    def alert_records(self) -> list[AlertRecord]:
        """The daemon's recent alert records, as of the last poll."""
        return list(self._records)

    def alert_info(self) -> AlertInfo:
        """The daemon's rules and log."""
        return self._info

    def add_alert_listener(self, listener: AlertListener) -> None:
        """Tell ``listener`` of the daemon's new or finished records (from the polling thread)."""
        self._alert_listeners.append(listener)

    def remove_alert_listener(self, listener: AlertListener) -> None:
        """Stop telling ``listener``."""
        with contextlib.suppress(ValueError):
            self._alert_listeners.remove(listener)


def _cat(*parts: Any) -> Any:
    import numpy as np

    return np.concatenate(parts)
