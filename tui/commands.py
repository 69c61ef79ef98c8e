"""Provides the command palette's commands: switch panes, open a metric, pause, filter."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from collectors.base import printable

if TYPE_CHECKING:
    from tui.app import GongwatchApp


class GongwatchCommands(Provider):
    """Offers every pane, every metric's chart, pause and filter."""

    def _commands(self) -> list[tuple[str, Callable[[], Any], str]]:
        app = cast("GongwatchApp", self.app)
        out: list[tuple[str, Callable[[], Any], str]] = [
            ("Pause or resume the display", app.action_pause, "collection goes on"),
            ("Filter metrics", app.action_filter, "by part of a key or a glob"),
            ("Help: keys", app.action_help, "every key binding"),
        ]
        for number, cls in enumerate(app.pane_classes, 1):
            out.append(
                (f"Show pane: {cls.TITLE}", partial(app.action_show_pane, number), f"key {number}")
            )
        for key, state in app.engine.snapshot().metrics.items():
            if state.reading.value is None:
                continue  # a text reading (a model, a serial number) has nothing to chart
            shown = f"Chart: {printable(key)}"  # keys hold sensor labels and remote names
            out.append((shown, partial(app.open_detail, key), "history and anomalies"))
        return out

    async def discover(self) -> Hits:
        for name, run, help_text in self._commands()[:12]:
            yield DiscoveryHit(name, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, run, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), run, help=help_text)
