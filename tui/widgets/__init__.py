"""Provides the app's widgets, one per module."""

from tui.widgets.row_table import Column, Row, RowTable
from tui.widgets.sparkline import sparkline
from tui.widgets.status_header import StatusHeader

__all__ = ["Column", "Row", "RowTable", "StatusHeader", "sparkline"]
