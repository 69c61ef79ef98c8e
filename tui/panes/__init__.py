"""Provides the panes of the main screen, in tab order."""

from tui.panes.alerts import AlertsPane
from tui.panes.base import Pane
from tui.panes.devices import DevicesPane
from tui.panes.disks import DisksPane
from tui.panes.hosts import HostsPane
from tui.panes.overview import OverviewPane
from tui.panes.remote import RemotePane
from tui.panes.sensors import SensorsPane

PANES: list[type[Pane]] = [
    OverviewPane,
    SensorsPane,
    DisksPane,
    RemotePane,
    DevicesPane,
    AlertsPane,
    HostsPane,
]
"""Every pane class, in the order of their tabs (keys 1-9 follow it)."""

__all__ = [
    "PANES",
    "AlertsPane",
    "DevicesPane",
    "DisksPane",
    "HostsPane",
    "OverviewPane",
    "Pane",
    "RemotePane",
    "SensorsPane",
]
