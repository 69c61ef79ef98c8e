"""Provides the daemon's local server: JSON over HTTP on a Unix socket, the routes
mirroring ``EngineView`` so that ``engine.client.RemoteEngineView`` can stand in for it.

Routes (all under ``/v1``):

- ``GET status``: pid, start time, configuration file, sources (stale or not), last alerts.
- ``GET config``: the configuration file's path and text (the client parses it the same way).
- ``GET snapshot?since_version=N``: the snapshot, or 204 when its version is still N.
- ``GET history?key=K[&count=N][&since=T][&until=T]``: the points of one metric.
- ``GET history?key=K&since=T&until=T&points=N``: the span a chart draws: at most N points
  (never more than ``engine.span.MAX_POINTS``), read from the tier that fits and merged into
  even buckets, each with its mean, min, max, count and anomalies, and the tier and step.
- ``GET history/stored?key=K&since=T&until=T``: what ``gongwatch history`` prints, from the
  history file: the tier chosen for the span, the unit, the points; 404 when the file has no
  such metric, 503 when the daemon keeps no history file.
- ``GET events?since=SEQ``: the events after SEQ.
- ``GET devices``: the gong's and the map's states.
- ``GET devices/log?since=SEQ``: lines on the wire and state changes after SEQ.
- ``POST devices/{name}/command`` ``{"line": "..."}``: one command; its reply, or 400 when it
  was refused unsent, 502 when the device failed.
- ``POST devices/{name}/connect`` ``{"port": "..."}`` and ``POST devices/{name}/disconnect``.
- ``GET ports``: the serial ports and the firmware answering on each.
- ``GET alerts?since_change=N``: the alert records and rules, or 204 when nothing changed.
- ``GET changes?since_version=N&events_since=SEQ&log_since=SEQ&alerts_since=N``: ``snapshot``,
  ``log`` and ``alerts`` (null for unchanged), in one answer. The snapshot holds only the
  metrics that changed after version N and the events after SEQ, with ``since: N``; or, for a
  client that holds no version or one from before the metrics' keys changed, all of them.
  With ``&cells=1``, the changes come in the compact form of ``engine.wire_changes``: the
  positions of the changed rows and only the columns that changed.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict
from pathlib import Path
from typing import Any

from collectors.serial_link import CommandError, DeviceState, LineEvent
from engine import wire
from engine.alerts import AlertRecord
from engine.config_daemon import TOKEN_HEADER, DaemonConfig
from engine.daemon import http as web
from engine.daemon.changes import SnapshotCoder
from engine.engine import stale_sources
from engine.history.cli import stored as stored_points
from engine.private import same_secret
from engine.runtime import Runtime
from engine.span import MAX_POINTS, SpanError

LOG_KEPT = 1000
"""Device log entries kept for clients that poll them."""
COMMAND_TIMEOUT = 15.0
"""Seconds a request waits for a device's reply (a resetting board takes a few)."""
SCAN_TIMEOUT = 30.0
"""Seconds a request waits for a port scan."""
LAST_ALERTS = 10
"""Alert records ``status`` shows."""


class DeviceLog:
    """The devices' recent lines and state changes, numbered, for clients that poll them."""

    def __init__(self) -> None:
        self._entries: deque[tuple[int, str, LineEvent | DeviceState]] = deque(maxlen=LOG_KEPT)
        self._seq = 0
        self._lock = threading.Lock()

    def __call__(self, name: str, event: LineEvent | DeviceState) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append((self._seq, name, event))

    def since(self, seq: int) -> list[tuple[int, str, LineEvent | DeviceState]]:
        """Return the entries numbered after ``seq``."""
        with self._lock:
            return [e for e in self._entries if e[0] > seq]


class AlertChanges:
    """Counts changes to the alert records, so a client fetches them only when they changed."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, record: AlertRecord) -> None:
        self.count += 1


class Server:
    """Serves one runtime (swapped for a new one on reload) on a Unix socket."""

    def __init__(
        self, runtime: Runtime, socket_path: Path, *, started: float, source: str,
        daemon: DaemonConfig | None = None,
    ):  # fmt: skip
        """Args:
        runtime: what the routes read and command.
        socket_path: where to listen (created 0600).
        started: wall-clock start of the daemon.
        source: path of the configuration file, for ``config`` and ``status``.
        daemon: the ``[daemon]`` settings: a TCP address to listen on too, its token, and the
            name ``status`` gives the host.
        """
        self.runtime, self.socket_path = runtime, socket_path
        self.started, self.source = started, source
        self.daemon = daemon or DaemonConfig()
        self.name = self.daemon.name or socket.gethostname()
        """What screens attached to several daemons call this one's host."""
        self.address: tuple[str, int] | None = None
        """The TCP address served, once listening there."""
        self.config_text = ""
        """The text of the configuration the runtime runs on (as it was read, not as the file
        may be now, half edited)."""
        self.device_log, self.alert_changes = DeviceLog(), AlertChanges()
        runtime.add_device_listener(self.device_log)
        runtime.add_alert_listener(self.alert_changes)
        self._http: web.HttpServer | None = None
        self._tcp: web.HttpServer | None = None
        self._coder = SnapshotCoder()

    def router(self, tcp: bool = False) -> web.Router:
        """Return every route.

        Args:
            tcp: the routes served on TCP: without the configuration file's text (it may hold
                other secrets).
        """
        router = web.Router()
        get: dict[str, Callable[[web.Request], Any]] = {
            "status": self.status, "config": self.config_for_tcp if tcp else self.config,
            "snapshot": self.snapshot,
            "history": self.history, "events": self.events, "devices": self.devices,
            "devices/log": self.devices_log, "ports": self.ports, "alerts": self.alerts,
            "changes": self.changes, "history/stored": self.stored,
        }  # fmt: skip
        for path, handler in get.items():
            router.add("GET", f"/v1/{path}", handler)
        router.add("POST", "/v1/devices/{name}/command", self.command)
        router.add("POST", "/v1/devices/{name}/connect", self.connect)
        router.add("POST", "/v1/devices/{name}/disconnect", self.disconnect)
        return router

    async def start(self) -> None:
        """Listen on the socket, readable and writable by its owner alone."""
        # A request still running at stop gets two seconds.
        self._http = web.HttpServer(self.router(), _pid_header, shutdown_timeout=2.0)
        old = os.umask(0o177)  # the socket is born 0600: no moment when others could connect
        try:
            await self._http.start_unix(str(self.socket_path))
        finally:
            os.umask(old)
        os.chmod(self.socket_path, 0o600)

    async def start_tcp(self) -> None:
        """Listen on ``[daemon] listen`` too, when it is set: behind the token when there is
        one.

        Raises:
            OSError: the address is taken or cannot be bound.
        """
        listen = self.daemon.listen
        if listen is not None:
            token = self.daemon.resolve_token()
            guard = _token_check(token) if token else None
            self._tcp = web.HttpServer(
                self.router(tcp=True), _pid_header, guard=guard, shutdown_timeout=2.0
            )
            self.address = await self._tcp.start_tcp(listen.host, listen.port)

    async def close(self) -> None:
        """Stop listening and remove the socket file."""
        for server in (self._http, self._tcp):
            if server is not None:
                await server.close()
        self._http = self._tcp = None
        self.socket_path.unlink(missing_ok=True)

    # -- reading ------------------------------------------------------------------------------

    async def status(self, request: web.Request) -> web.Response:
        snap = self.runtime.snapshot()
        now = time.time()
        stale = set(stale_sources(snap.sources, now))
        sources = [wire.flat(s) | {"stale": s.name in stale} for s in snap.sources.values()]
        records = [wire.flat(r) for r in self.runtime.alert_records()[-LAST_ALERTS:]]
        return web.json_response({
            "pid": os.getpid(), "started": self.started, "socket": str(self.socket_path),
            "name": self.name,
            "config": self.source, "version": snap.version, "metrics": len(snap.metrics),
            "sources": sources, "alerts": records, "dropped": self.runtime.engine.dropped,
            "devices": [wire.flat(d) for d in self.runtime.device_states()],
        })  # fmt: skip

    async def config(self, request: web.Request) -> web.Response:
        return web.json_response({"source": self.source, "text": self.config_text})

    async def config_for_tcp(self, request: web.Request) -> web.Response:
        # The file stays on its machine: a screen attached over TCP keeps its own settings.
        return web.json_response({"source": self.source, "text": ""})

    async def snapshot(self, request: web.Request) -> web.Response:
        since = _int(request, "since_version", -1)
        body = self._coder.encode(self.runtime.snapshot(), since, changes=False)
        if body is None:
            return web.Response(status=204)
        return web.Response(body=body, content_type="application/json")

    async def changes(self, request: web.Request) -> web.Response:
        """What an attached screen polls: the snapshot, device log and alerts that changed
        since it last asked, in one answer (one request a second instead of three)."""
        snap = self._coder.encode(
            self.runtime.snapshot(),
            _int(request, "since_version", -1),
            _int(request, "events_since", 0),
            cells=_int(request, "cells", 0) == 1,
        )
        entries = self.device_log.since(_int(request, "log_since", 0))
        alerts = self._alerts_since(_int(request, "alerts_since", -1))
        rest = json.dumps({
            "log": [wire.device_line_to(*e) for e in entries], "alerts": alerts,
        })  # fmt: skip
        body = b'{"snapshot": ' + (snap or b"null") + b", " + rest[1:].encode()
        return web.Response(body=body, content_type="application/json")

    async def history(self, request: web.Request) -> web.Response:
        key = request.query.get("key", "")
        count = _int(request, "count", 0) or None
        since, until = _float(request, "since"), _float(request, "until")
        if "points" in request.query:
            return await self._span(key, since, until, _int(request, "points", MAX_POINTS))
        hist = await asyncio.to_thread(self.runtime.history, key, count, since, until)
        return web.json_response(wire.history_to(hist))

    async def _span(
        self, key: str, since: float | None, until: float | None, points: int
    ) -> web.Response:
        if since is None or until is None:
            return _error(400, "SpanError", "a span needs since and until")
        try:
            span = await asyncio.to_thread(self.runtime.span, key, since, until, points)
        except SpanError as exc:
            return _error(500, "SpanError", str(exc))
        return web.json_response(wire.span_to(span))

    async def stored(self, request: web.Request) -> web.Response:
        """What ``gongwatch history`` prints, read from the file this daemon writes."""
        key = request.query.get("key", "")
        since, until = _float(request, "since"), _float(request, "until")
        reader = getattr(self.runtime.engine.archive, "store", None)
        if reader is None:
            return _error(503, "NoHistory", "this daemon keeps no history file")
        if since is None or until is None:
            return _error(400, "HistoryError", "since and until are needed")
        try:
            answer = await asyncio.to_thread(stored_points, reader, key, since, until)
        except sqlite3.Error as exc:
            return _error(500, "HistoryError", f"cannot read {reader.path}: {exc}")
        if isinstance(answer, str):
            return _error(404, "NoMetric", answer)
        return web.json_response(answer)

    async def events(self, request: web.Request) -> web.Response:
        events = self.runtime.events_since(_int(request, "since", 0))
        return web.json_response([wire.flat(e) for e in events])

    async def devices(self, request: web.Request) -> web.Response:
        return web.json_response([wire.flat(d) for d in self.runtime.device_states()])

    async def devices_log(self, request: web.Request) -> web.Response:
        entries = self.device_log.since(_int(request, "since", 0))
        return web.json_response([wire.device_line_to(*e) for e in entries])

    async def ports(self, request: web.Request) -> web.Response:
        found = await _wait(self.runtime.scan_ports(), SCAN_TIMEOUT)
        return web.json_response([wire.flat(p) for p in found])

    async def alerts(self, request: web.Request) -> web.Response:
        alerts = self._alerts_since(_int(request, "since_change", -1))
        if alerts is None:
            return web.Response(status=204)
        return web.json_response(alerts)

    def _alerts_since(self, change: int) -> dict[str, Any] | None:
        """Return the records and rules, or None when nothing changed since ``change``."""
        if change == self.alert_changes.count:
            return None
        info = asdict(self.runtime.alert_info())
        records = [wire.flat(r) for r in self.runtime.alert_records()]
        return {"change": self.alert_changes.count, "info": info, "records": records}

    # -- commanding ---------------------------------------------------------------------------

    async def command(self, request: web.Request) -> web.Response:
        body = await _body(request)
        line = body.get("line")
        if not isinstance(line, str):
            return _error(400, "CommandError", 'the body needs a command line: {"line": ...}')
        future = self.runtime.device_command(request.match_info["name"], line)
        try:
            reply = await _wait(future, COMMAND_TIMEOUT)
        except CommandError as exc:
            return _error(400, "CommandError", str(exc))
        except Exception as exc:  # the device's failure is the client's answer, not ours
            return _error(502, type(exc).__name__, str(exc) or type(exc).__name__)
        return web.json_response(wire.flat(reply))

    async def connect(self, request: web.Request) -> web.Response:
        port = (await _body(request)).get("port")
        self.runtime.device_connect(request.match_info["name"], port or None)
        return web.json_response({"ok": True})

    async def disconnect(self, request: web.Request) -> web.Response:
        self.runtime.device_disconnect(request.match_info["name"])
        return web.json_response({"ok": True})


def _token_check(token: str) -> Callable[[web.Request], web.Response | None]:
    """Return a guard that answers 401 to a request without ``Bearer <token>``."""
    expected = f"Bearer {token}".encode()

    def check(request: web.Request) -> web.Response | None:
        given = request.headers.get(TOKEN_HEADER.lower(), "").encode()
        if not same_secret(given, expected):
            return _error(401, "Unauthorized", "this daemon wants its token: Bearer <token>")
        return None

    return check


def _pid_header() -> dict[str, str]:
    # Every answer names the daemon's process, so a client notices a restarted daemon at once.
    return {"Gongwatch-Pid": str(os.getpid())}


async def _wait(future: Future[Any], seconds: float) -> Any:
    return await asyncio.wait_for(asyncio.wrap_future(future), seconds)


async def _body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        data = await request.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error(status: int, kind: str, text: str) -> web.Response:
    return web.json_response({"error": text, "kind": kind}, status=status)


def _int(request: web.Request, name: str, default: int) -> int:
    try:
        return int(request.query.get(name, default))
    except ValueError:
        raise web.HTTPBadRequest(f"{name} must be an integer") from None


def _float(request: web.Request, name: str) -> float | None:
    value = request.query.get(name)
    try:
        return None if value is None else float(value)
    except ValueError:
        raise web.HTTPBadRequest(f"{name} must be a number") from None
