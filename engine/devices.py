"""Provides ``Devices``: the gong and the map built from the configuration, each on its own
serial thread, started and stopped together."""

from __future__ import annotations

from dataclasses import dataclass

from collectors.serial_link import Device, Gong, Map
from engine.config import Config


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
