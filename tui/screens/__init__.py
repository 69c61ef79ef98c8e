"""Provides the app's screens besides the main one.

The detail screen (its chart, its zoom and the detectors it draws with) is loaded by the first
metric opened, not with the monitor: most runs never open one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tui.screens.help import HelpScreen

if TYPE_CHECKING:
    from tui.screens.detail import DetailScreen

DETAIL = "tui.screens.detail"
"""The module of ``DetailScreen``."""


def __getattr__(name: str) -> Any:
    if name == "DetailScreen":
        from tui.screens.detail import DetailScreen

        return DetailScreen
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DETAIL", "DetailScreen", "HelpScreen"]
