"""Provides ``Runtime``: the engine, its alert rules and its devices together in this process.

It is the embedded ``EngineView`` (what the screen reads when no daemon runs) and what the
daemon serves over its socket. It claims each serial port it drives with a port lock, so a
daemon and an embedded screen never drive the same gong.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import replace

from collectors.base import Collector
from collectors.serial_link import (
    CommandError,
    DeviceState,
    PortInfo,
    Reply,
    discover,
    list_port_paths,
)
from engine.alerts import AlertManager, AlertRecord
from engine.config import Config
from engine.devices import Devices, failed
from engine.engine import Engine, Event, Snapshot
from engine.portlock import PortLock
from engine.remember import open_archive
from engine.series import History
from engine.sources import build_collectors
from engine.span import Span
from engine.view import AlertInfo, AlertListener, DeviceListener, Link

STARTED = time.time()
"""When this process started (what ``Link.started`` says of an embedded engine)."""


class Runtime:
    """The engine with its alert manager and devices; implements ``EngineView``."""

    def __init__(
        self,
        config: Config,
        *,
        engine: Engine | None = None,
        collectors: Iterable[Collector] | None = None,
        devices: Devices | None = None,
        alerts: AlertManager | None = None,
        lock_ports: bool = True,
        history: bool = False,
        memory: int | None = None,
    ) -> None:
        """Args:
        config: the configuration.
        engine: an engine to run (built from ``config`` and ``collectors`` when None).
        collectors: the sources (from the configuration when None).
        devices: the gong and the map (from the configuration when None).
        alerts: the alert manager (built and subscribed to the engine when None).
        lock_ports: claim the configured ports; a port another process holds is not opened.
        history: keep every point in the history file the configuration names (and warm the
            detectors from it), when the engine is built here.
        memory: points kept in memory per metric by an engine built here (default: the
            configuration's ``history``); more are read from the history file.
        """
        if engine is None:
            said: list[str] = []
            archive = open_archive(config, said.append) if history else None
            sources = build_collectors(config) if collectors is None else collectors
            engine = Engine(config, sources, archive=archive, memory=memory)
            for line in said:
                engine.report("history", "warning", line)
        self.engine = engine
        self.notes: dict[str, str] = {}
        """Device name to why it does not drive its configured port."""
        self._locks: dict[str, PortLock] = {}
        if devices is None:
            devices = Devices.from_config(self._claimed(engine.config) if lock_ports else config)
        self.devices = devices
        if alerts is None:
            alerts = AlertManager(engine.config, gong=devices.gong, map=devices.map)
            alerts.attach(engine)
        self.alerts = alerts
        alerts.on_error = engine.report
        self._device_listeners: list[tuple[DeviceListener, list[tuple[object, object]]]] = []
        self._lock = threading.Lock()
        self._running: bool | None = None
        """True once started, False once stopped after that, None before either."""

    # -- ports ----------------------------------------------------------------------------------

    def _claimed(self, config: Config) -> Config:
        """Return ``config`` without the ports another process holds (noted in ``notes``)."""
        for name in ("gong", "map"):
            dev = getattr(config, name)
            if dev.port is None:
                continue
            lock = PortLock(dev.port)
            try:
                got = lock.acquire()
            except OSError as exc:  # no runtime dir: drive the port, as before locks existed
                self.notes[name] = f"port lock unavailable: {exc}"
                continue
            if got:
                self._locks[dev.port] = lock
            else:
                self.notes[name] = lock.why_not()
                config = replace(config, **{name: replace(dev, port=None)})
        return config

    def release_ports(self) -> None:
        """Let every claimed port go."""
        for lock in self._locks.values():
            lock.release()
        self._locks.clear()

    # -- lifetime -------------------------------------------------------------------------------

    @property
    def config(self) -> Config:
        """The configuration the engine runs on."""
        return self.engine.config

    def start(self) -> None:
        """Start the collector threads, the observers' thread and the devices' threads (once:
        a runtime started before its screen is not started again when the screen mounts)."""
        if self._running:
            return
        self._running = True
        self.engine.start()
        self.devices.start()
        self.alerts.start_triggers()  # calendar strikes and MQTT triggers

    def stop(self) -> None:
        """Stop everything ``start`` started, close the ports and release their locks (once:
        the screen stops the runtime it shows, and the command line makes sure of it)."""
        if self._running is False:
            return
        self._running = False
        self.engine.stop()
        self.devices.stop()
        self.alerts.close()
        self.release_ports()

    def reconfigure(self, config: Config) -> None:
        """Run on a new configuration: new sources and rules, the metrics kept; the devices
        are reopened only when their settings changed."""
        started = self.engine.running
        if (config.gong, config.map) != (self.config.gong, self.config.map):
            listeners = [lst for lst, _ in self._device_listeners]
            for lst in listeners:
                self.remove_device_listener(lst)
            self.devices.stop()
            self.release_ports()
            self.notes.clear()
            self.devices = Devices.from_config(self._claimed(config))
            for lst in listeners:
                self.add_device_listener(lst)
            if started:
                self.devices.start()
        old = self.alerts
        self.engine.unsubscribe(old.observe)
        self.engine.reconfigure(config, build_collectors(config))
        self.alerts = AlertManager(config, gong=self.devices.gong, map=self.devices.map)
        self.alerts.on_error = self.engine.report
        for listener in old.listeners():
            self.alerts.add_listener(listener)
        self.alerts.attach(self.engine)
        old.close()

    # -- what the screen reads ------------------------------------------------------------------

    @property
    def link(self) -> Link:
        """This process."""
        return Link("embedded", os.getpid(), STARTED)

    def snapshot(self) -> Snapshot:
        """The engine's latest snapshot."""
        return self.engine.snapshot()

    def history(
        self, key: str, count: int | None = None, since: float | None = None,
        until: float | None = None,
    ) -> History:  # fmt: skip
        """The points of one metric."""
        if since is None and until is None:
            return self.engine.history(key, count)
        return self.engine.history(key, count, since, until)

    def span(self, key: str, since: float, until: float, points: int) -> Span:
        """One metric over a span of time, from the history file (blocks: use a worker)."""
        return self.engine.span(key, since, until, points)

    def events_since(self, seq: int) -> tuple[Event, ...]:
        """The events after ``seq``."""
        return self.engine.events_since(seq)

    # -- devices --------------------------------------------------------------------------------

    def device_states(self) -> tuple[DeviceState, ...]:
        """Both devices' states; a device kept off its port by a lock says so."""
        return tuple(
            replace(st, port=self._configured(st.name), detail=self.notes[st.name])
            if st.name in self.notes and st.port is None else st
            for st in self.devices.states()
        )  # fmt: skip

    def _configured(self, name: str) -> str | None:
        return getattr(self.config, name).port  # type: ignore[no-any-return]

    def device_command(self, name: str, line: str) -> Future[Reply]:
        """Send a command line to a device (see ``EngineView.device_command``)."""
        return self.devices.command(name, line)

    def device_connect(self, name: str, port: str | None = None) -> None:
        """Connect a device, claiming its port first; a port held elsewhere is not opened."""
        device = self.devices.device(name)
        target = port or (device.state.port if device else None)
        if device is None or not target:
            return
        lock = self._locks.get(target) or PortLock(target)
        if not lock.acquire():
            self.notes[name] = lock.why_not()
            device.disconnect()  # tells its listeners; the port stays closed
            return
        self._locks[target] = lock
        self.notes.pop(name, None)
        device.connect(target)

    def device_disconnect(self, name: str) -> None:
        """Close a device's port."""
        device = self.devices.device(name)
        if device is not None:
            device.disconnect()

    def scan_ports(
        self, on_port: Callable[[PortInfo], None] | None = None
    ) -> Future[list[PortInfo]]:
        """Probe the ports on a thread of its own; skip the ones any gongwatch drives."""
        future: Future[list[PortInfo]] = Future()
        states = self.devices.states()
        extra = [st.port for st in states if st.port]
        busy = [st.port for st in states if st.port and st.status != "disconnected"]
        thread = threading.Thread(
            target=self._scan, args=(future, extra, busy, on_port), name="port-scan", daemon=True
        )
        thread.start()
        return future

    def _scan(
        self, future: Future[list[PortInfo]], extra: list[str], busy: list[str],
        on_port: Callable[[PortInfo], None] | None,
    ) -> None:  # fmt: skip
        if not future.set_running_or_notify_cancel():
            return
        try:
            found = [path for path, _ in list_port_paths(extra)]
            held = [p for p in found if p not in busy and not _free(p)]
            future.set_result(discover(extra, skip=busy + held, on_port=on_port))
        except Exception as exc:  # the scan's failure goes back to who asked for it
            future.set_exception(exc)

    def add_device_listener(self, listener: DeviceListener) -> None:
        """Tell ``listener`` of both devices' lines and states."""
        relays = []
        for device in self.devices.all():
            relay = _Relay(listener, device.name)
            device.add_listener(relay)
            relays.append((device, relay))
        with self._lock:
            self._device_listeners.append((listener, relays))  # type: ignore[arg-type]

    def remove_device_listener(self, listener: DeviceListener) -> None:
        """Stop telling ``listener``."""
        with self._lock:
            kept = [(lst, r) for lst, r in self._device_listeners if lst is not listener]
            gone = [r for lst, r in self._device_listeners if lst is listener]
            self._device_listeners = kept
        for relays in gone:
            for device, relay in relays:
                device.remove_listener(relay)  # type: ignore[attr-defined]

    # -- alerts ---------------------------------------------------------------------------------

    def alert_records(self) -> list[AlertRecord]:
        """The recent alert records."""
        return self.alerts.records()

    def alert_info(self) -> AlertInfo:
        """The rules, the map's locations and the log."""
        a = self.alerts
        return AlertInfo(len(a.rules), len(a.locations), str(a.log_path), a.log_error)

    def add_alert_listener(self, listener: AlertListener) -> None:
        """Tell ``listener`` of every alert record."""
        self.alerts.add_listener(listener)

    def remove_alert_listener(self, listener: AlertListener) -> None:
        """Stop telling ``listener``."""
        self.alerts.remove_listener(listener)


def _free(port: str) -> bool:
    """Whether no gongwatch process holds ``port`` (probing it would reset its board)."""
    lock = PortLock(port)
    try:
        got = lock.acquire()
    except OSError:
        return True
    lock.release()
    return got


class _Relay:
    """A device listener that names its device to a view's listener."""

    def __init__(self, listener: DeviceListener, name: str) -> None:
        self.listener, self.name = listener, name

    def __call__(self, event: object) -> None:
        self.listener(self.name, event)  # type: ignore[arg-type]


__all__ = ["CommandError", "Runtime", "failed"]
