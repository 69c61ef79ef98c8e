"""Provides the list of collectors a configuration asks for."""

from __future__ import annotations

from collectors.base import Collector
from collectors.system import SystemCollector
from tui.config import Config


def build_collectors(config: Config) -> list[Collector]:
    """Return the enabled collectors, configured. Each reports its own unavailability."""
    out: list[Collector] = []
    system = config.collector("system")
    if system.enabled:
        out.append(SystemCollector(interval=system.interval))
    return out
