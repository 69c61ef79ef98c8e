"""Provides the app's widgets, one per module."""

from tui.widgets.command_line import CommandHistory, CommandLine
from tui.widgets.pane_tabs import PaneTabs
from tui.widgets.row_table import Column, Row, RowTable
from tui.widgets.sparkline import sparkline
from tui.widgets.static_text import update_static
from tui.widgets.status_header import StatusHeader
from tui.widgets.text_log import TextLog

__all__ = [
    "Column",
    "CommandHistory",
    "CommandLine",
    "PaneTabs",
    "Row",
    "RowTable",
    "StatusHeader",
    "TextLog",
    "sparkline",
    "update_static",
]
