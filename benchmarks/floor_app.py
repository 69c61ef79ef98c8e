"""The least a monitor built on numpy and Textual can take: numpy loaded and a Textual app with
one label that shows a numpy array, changed every second. ``overhead.py`` runs it in the same
pseudo terminal, on the same machine and in the same run as the monitor, so the monitor's memory
can be read against it: what numpy and Textual take here does not depend on gongwatch.

    .venv/bin/python benchmarks/floor_app.py
"""

from __future__ import annotations

import sys

# As the monitor does until something speaks TLS (engine/tls.py): asyncio loads without ssl.
sys.modules["ssl"] = None  # type: ignore[assignment]

import numpy as np  # noqa: E402
from textual.app import App, ComposeResult  # noqa: E402
from textual.widgets import Static  # noqa: E402


class Floor(App[None]):
    """One label, changed every second."""

    def compose(self) -> ComposeResult:
        yield Static(id="value")

    def on_mount(self) -> None:
        self._step = 0
        self.set_interval(1.0, self.tick)

    def tick(self) -> None:
        self._step += 1
        self.query_one("#value", Static).update(f"{np.arange(4) * self._step}")


if __name__ == "__main__":
    Floor().run()
