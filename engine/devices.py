"""Provides ``Devices``: the gong and the map built from the configuration, each on its own
serial thread, started and stopped together, and the one place a command line from a person
is turned into what the drivers send."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass

from collectors.serial_link import (
    CommandError,
    Device,
    DeviceState,
    Gong,
    Map,
    Reply,
    check_command,
)
from engine.config import Config


def failed(exc: BaseException) -> Future[Reply]:
    """Return a future that already holds ``exc`` (a command that was not sent)."""
    future: Future[Reply] = Future()
    future.set_exception(exc)
    return future


@dataclass(frozen=True, slots=True)
class Devices:
    """The gong and the map, each on its own thread."""

    gong: Gong
    map: Map

    @classmethod
    def from_config(cls, config: Config, ready_timeout: float | None = None) -> Devices:
        """Build both from ``[devices.gong]`` and ``[devices.map]`` (not started)."""
        g, m = config.gong, config.map
        gong = Device("gong", g.port, g.baud, ready_timeout=ready_timeout)
        leds = Device("map", m.port, m.baud, ready_timeout=ready_timeout)
        return cls(Gong(gong, cooldown=g.cooldown), Map(leds))

    def start(self) -> None:
        """Start both threads; each connects if its port is configured."""
        self.gong.device.start()
        self.map.device.start()

    def stop(self) -> None:
        """Close both ports and stop their threads."""
        self.gong.device.stop(timeout=1.0)
        self.map.device.stop(timeout=1.0)

    def all(self) -> list[Device]:
        """Return the gong's device and the map's."""
        return [self.gong.device, self.map.device]

    def states(self) -> tuple[DeviceState, ...]:
        """Return the state of both devices."""
        return tuple(d.state for d in self.all())

    def device(self, name: str) -> Device | None:
        """Return the device called ``name`` (``gong`` or ``map``)."""
        return next((d for d in self.all() if d.name == name), None)

    def command(self, name: str, line: str) -> Future[Reply]:
        """Send one command line typed by a person; see ``EngineView.device_command``."""
        device = self.device(name)
        if device is None:
            return failed(CommandError(f"no device called {name!r} (gong or map)"))
        try:
            command = check_command(line, name, device.state.locations)
        except CommandError as exc:
            return failed(exc)
        if name == "gong" and command == "gong":
            future = self.gong.strike(force=True)
            assert future is not None  # a forced strike is always sent
            return future
        if name == "map":
            # A command from a person is a test: the map's desired state is the alerts' to set.
            return self.map.test(command)
        return device.submit(command)
