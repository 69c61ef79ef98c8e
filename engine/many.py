"""Provides ``ManyEngineView``: one screen attached to several gongwatch daemons, by socket or by
URL, each through its own ``RemoteEngineView``.

Each daemon's metrics are shown under its host, ``hosts/<name>/<key>`` (``name``: what the
daemon calls itself, ``[daemon] name`` or its host name), beside ``hosts/<name>/up``. A daemon
that does not answer is shown as a host that is down, with why, and none of its old values:
they would pass for a quiet machine. It comes back when the daemon answers again.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from collectors.base import Reading, Status
from collectors.serial_link import DeviceState, PortInfo, Reply
from detectors.base import QUIET
from engine.alerts import AlertRecord
from engine.client import RemoteEngineView, Target, is_url
from engine.config import Config
from engine.series import History
from engine.span import Span, SpanError
from engine.state import Event, MetricState, Snapshot, SourceState, combine
from engine.view import AlertInfo, AlertListener, DeviceListener, Link

HOSTS = "hosts"
"""The key root of every daemon's metrics (the Hosts pane's, as for Prometheus' instances)."""
SOURCE_PREFIX = "daemon:"
"""Names of the sources that stand for the daemons (their problems show in the Hosts pane)."""
EVENTS_KEPT = 200
NOT_HERE = "several daemons attached: use the screen of the daemon that drives it"


def fallback_name(target: Target) -> str:
    """Name a daemon that has not answered yet: ``host:port`` of its URL, or its socket."""
    if is_url(target):
        return urlsplit(str(target)).netloc
    return str(target)


class ManyEngineView:
    """Several daemons on one screen; implements ``EngineView``."""

    def __init__(self, targets: Sequence[Target], config: Config, token: str | None = None) -> None:
        """Args:
        targets: the daemons' sockets or URLs (``http://host:port``).
        config: this screen's configuration (its refresh rate).
        token: the token of the daemons reached by URL.
        """
        self.config = config
        self.views = [RemoteEngineView.waiting(t, config, token) for t in targets]
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] = ()
        self._snapshot = Snapshot(0)
        self._version = 0
        self._events: list[Event] = []
        self._seen = [0] * len(self.views)

    # -- lifetime -----------------------------------------------------------------------------

    def start(self) -> None:
        """Start polling every daemon."""
        for view in self.views:
            view.start()

    def stop(self) -> None:
        """Stop polling every daemon (idempotent)."""
        for view in self.views:
            view.stop()

    # -- names --------------------------------------------------------------------------------

    def names(self) -> list[str]:
        """The host name of each daemon, in order; two daemons calling themselves the same are
        told apart by where they answer."""
        raw = [v.daemon_name or fallback_name(v.socket) for v in self.views]
        return [
            f"{n}@{fallback_name(v.socket)}" if raw.count(n) > 1 else n
            for n, v in zip(raw, self.views, strict=True)
        ]

    def _route(self, key: str) -> tuple[RemoteEngineView, str] | None:
        """Return the daemon a merged key belongs to, and its key there."""
        root, _, rest = key.partition("/")
        if root != HOSTS:
            return None
        for name, view in zip(self.names(), self.views, strict=True):
            if rest.startswith(f"{name}/"):
                return view, rest[len(name) + 1 :]
        return None

    # -- what the screen reads ----------------------------------------------------------------

    @property
    def link(self) -> Link:
        """How many daemons answer; connected only when all of them do."""
        up = [v.link.connected for v in self.views]
        started = min((v.link.started for v in self.views if v.link.started), default=0.0)
        down = len(up) - sum(up)
        detail = f"{len(up)} daemons" + (f", {down} not answering" if down else "")
        return Link("several", 0, started, all(up), detail)

    def snapshot(self) -> Snapshot:
        """The daemons' snapshots merged, each daemon's metrics under its host."""
        snaps = [v.snapshot() for v in self.views]
        names = self.names()
        key = tuple((s.version, v.link.connected, n) for s, v, n in zip(snaps, self.views, names,
                                                                         strict=True))  # fmt: skip
        with self._lock:
            if key != self._key:
                self._key = key
                self._version += 1
                self._take_events(names)
                self._snapshot = self._merge(snaps, names)
            return self._snapshot

    def _merge(self, snaps: list[Snapshot], names: list[str]) -> Snapshot:
        metrics: dict[str, MetricState] = {}
        sources: dict[str, SourceState] = {}
        now = time.time()
        for snap, view, name in zip(snaps, self.views, names, strict=True):
            link = view.link
            prefix = f"{HOSTS}/{name}"
            metrics[f"{prefix}/up"] = _up(f"{prefix}/up", link.connected, now)
            why = () if link.connected else (f"not answering at {view.socket}: {link.detail}",)
            sources[f"{SOURCE_PREFIX}{name}"] = SourceState(
                f"{SOURCE_PREFIX}{name}", 0.0, errors=why, last_poll=now
            )  # interval 0: never stale, it is looked at every refresh
            if not link.connected:
                continue  # its last values would pass for a quiet machine
            for k, st in snap.metrics.items():
                full = f"{prefix}/{k}"
                metrics[full] = replace(st, reading=replace(st.reading, key=full))
            for s, src in snap.sources.items():
                sources[f"{name}/{s}"] = replace(src, name=f"{name}/{s}")
        return Snapshot(self._version, metrics, sources, tuple(self._events))

    def _take_events(self, names: list[str]) -> None:
        for i, (view, name) in enumerate(zip(self.views, names, strict=True)):
            for e in view.events_since(self._seen[i]):
                self._seen[i] = e.seq
                seq = (self._events[-1].seq if self._events else 0) + 1
                self._events.append(replace(e, seq=seq, source=f"{name}: {e.source}"))
        del self._events[:-EVENTS_KEPT]

    def history(
        self, key: str, count: int | None = None, since: float | None = None,
        until: float | None = None,
    ) -> History:  # fmt: skip
        """The points of one metric, from the daemon it belongs to."""
        found = self._route(key)
        if found is None:
            return History(np.empty(0), np.empty(0), np.empty(0, dtype=bool))
        view, own = found
        return view.history(own, count, since, until)

    def span(self, key: str, since: float, until: float, points: int) -> Span:
        """One metric over a span of time, from the history file of the daemon it belongs to;
        blocks (call it from a worker).

        Raises:
            SpanError: no daemon holds the metric, or its daemon could not answer.
        """
        found = self._route(key)
        if found is None:
            raise SpanError(f"{key} belongs to none of the daemons attached")
        view, own = found
        return view.span(own, since, until, points)

    def events_since(self, seq: int) -> tuple[Event, ...]:
        """The daemons' events after ``seq``, each said with its host."""
        return tuple(e for e in self.snapshot().events if e.seq > seq)

    # -- devices: driven from the screen of the daemon they hang on ---------------------------

    def _one(self) -> RemoteEngineView | None:
        return self.views[0] if len(self.views) == 1 else None

    def device_states(self) -> tuple[DeviceState, ...]:
        """The devices of the one daemon attached; none with several."""
        one = self._one()
        return one.device_states() if one is not None else ()

    def device_command(self, name: str, line: str) -> Future[Reply]:
        """Send a command through the one daemon attached; refused with several."""
        one = self._one()
        if one is not None:
            return one.device_command(name, line)
        from collectors.serial_link import DeviceGone

        future: Future[Reply] = Future()
        future.set_exception(DeviceGone(NOT_HERE))
        return future

    def device_connect(self, name: str, port: str | None = None) -> None:
        """Connect a device of the one daemon attached."""
        if (one := self._one()) is not None:
            one.device_connect(name, port)

    def device_disconnect(self, name: str) -> None:
        """Disconnect a device of the one daemon attached."""
        if (one := self._one()) is not None:
            one.device_disconnect(name)

    def scan_ports(
        self, on_port: Callable[[PortInfo], None] | None = None
    ) -> Future[list[PortInfo]]:
        """Scan the ports of the one daemon attached; nothing with several."""
        if (one := self._one()) is not None:
            return one.scan_ports(on_port)
        future: Future[list[PortInfo]] = Future()
        future.set_result([])
        return future

    def add_device_listener(self, listener: DeviceListener) -> None:
        """Tell ``listener`` of every daemon's device lines."""
        for view in self.views:
            view.add_device_listener(listener)

    def remove_device_listener(self, listener: DeviceListener) -> None:
        """Stop telling ``listener``."""
        for view in self.views:
            view.remove_device_listener(listener)

    # -- alerts -------------------------------------------------------------------------------

    def alert_records(self) -> list[AlertRecord]:
        """Every daemon's recent alert records, oldest first."""
        records = [r for v in self.views for r in v.alert_records()]
        return sorted(records, key=lambda r: r.time)

    def alert_info(self) -> AlertInfo:
        """The daemons' rules and map locations, counted together."""
        infos = [v.alert_info() for v in self.views]
        logs = ", ".join(sorted({i.log_path for i in infos if i.log_path}))
        errors = "; ".join(i.log_error for i in infos if i.log_error) or None
        return AlertInfo(sum(i.rules for i in infos), sum(i.locations for i in infos), logs,
                         errors)  # fmt: skip

    def add_alert_listener(self, listener: AlertListener) -> None:
        """Tell ``listener`` of every daemon's new or finished records."""
        for view in self.views:
            view.add_alert_listener(listener)

    def remove_alert_listener(self, listener: AlertListener) -> None:
        """Stop telling ``listener``."""
        for view in self.views:
            with contextlib.suppress(ValueError):
                view.remove_alert_listener(listener)


def _up(key: str, connected: bool, now: float) -> MetricState:
    """The ``up`` of a daemon's host: 1 while it answers, 0 (critical) when it does not."""
    reading = Reading(
        key, 1.0 if connected else 0.0, "", now,
        status=Status.OK if connected else Status.CRITICAL, text="up" if connected else "down",
    )  # fmt: skip
    return MetricState(reading, combine(reading, QUIET), "none")
