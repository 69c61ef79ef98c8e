"""Provides the help screen: every key that works where the user was, and what it does."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

INTRO = """\
[b]gongwatch[/b] watches this machine and its services and marks what is [i]unusual[/i].
Rows marked [b]![/b] are anomalous (warning), [b]!![/b] critical.
"""


class HelpScreen(ModalScreen[None]):
    """Lists the bindings collected from the app and the pane that was shown."""

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        """Args:
        sections: (title, [(keys, description), ...]) groups of bindings.
        """
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        lines = [INTRO]
        for title, items in self.sections:
            if not items:
                continue
            lines.append(f"[b]{title}[/b]")
            lines.extend(f"  [b]{keys:<16}[/b] {desc}" for keys, desc in items)
            lines.append("")
        lines.append("Press escape to close.")
        with VerticalScroll(id="help-body"):
            yield Static("\n".join(lines), id="help-text")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
