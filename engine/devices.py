"""Provides ``Devices``: the gong and the map built from the configuration, each on its own
serial thread, started and stopped together, and the one place a command line from a person
is turned into what the drivers send."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass

from collectors.serial_link import (
    MAP_STATUSES,
    CommandError,
    Device,
    DeviceState,
    Gong,
    Map,
    Reply,
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
        words = line.split()
        try:
            if name == "gong" and words == ["gong"]:
                future = self.gong.strike(force=True)
                assert future is not None  # forced strikes are always sent
                return future
            if name == "map" and len(words) > 2 and words[-1] in MAP_STATUSES:
                raise CommandError(f"a location name has no spaces: {' '.join(words[:-1])!r}")
            if name == "map" and len(words) == 2 and words[1] in MAP_STATUSES:
                if words[0] == "all":
                    return self.map.all(words[1])
                return self.map.set(words[0], words[1])
        except CommandError as exc:
            return failed(exc)
        return device.submit(line)
