"""Provides the app's screens besides the main one."""

from tui.screens.detail import DetailScreen
from tui.screens.help import HelpScreen

__all__ = ["DetailScreen", "HelpScreen"]
