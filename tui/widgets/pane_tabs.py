"""Provides PaneTabs: the app's tabs, which change only when the user changes them."""

from __future__ import annotations

from textual import on
from textual.widgets import TabbedContent, TabPane


class PaneTabs(TabbedContent):
    """Tabbed content whose active tab never follows the focus.

    Textual's ``TabbedContent`` shows the tab of any widget that gets the focus. The app
    focuses a pane's first widget after its tab is shown; when the user has already moved on
    (``5`` then ``1`` in quick succession), that late focus would bring the old tab back, and
    the keys the user presses next would go to a pane they no longer see.
    """

    @on(TabPane.Focused)
    def _ignore_focus(self, event: TabPane.Focused) -> None:
        event.stop()
        event.prevent_default()
