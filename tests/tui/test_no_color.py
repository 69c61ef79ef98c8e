"""Tests that every pane draws under NO_COLOR, where Textual filters every style to monochrome."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# NO_COLOR is read when the app is created, so the app runs in a child with it set.
SCRIPT = """
import asyncio
from tests.tui.helpers import test_app
async def main():
    app = test_app()
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.no_color
        for number in range(1, len(app.pane_classes) + 1):
            await pilot.press(str(number))
            app.tick()
            await pilot.pause(0.1)
        await pilot.press("1", "enter")
        await pilot.pause(0.2)
        await pilot.press("escape", "question_mark")
        await pilot.pause(0.1)
    print("drew", len(app.pane_classes), "panes")
asyncio.run(main())
"""


def test_every_pane_draws_without_colour() -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=ROOT, env=env,
        timeout=120,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.startswith("drew")
