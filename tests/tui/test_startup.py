"""Tests the order things start in: the engine runs before the screen's code is loaded, so
its first readings are there for the first frame, and it is stopped when the screen ends."""

from __future__ import annotations

import sys
import threading
import time
import types
from typing import Any

import pytest

from engine import cli
from engine.config import Config
from engine.config_reader import parse
from engine.runtime import Runtime
from tests.daemon_process import QUIET_SOURCES

SCREEN = "gongwatch_test_screen"


def test_the_screen_gets_an_engine_that_already_runs(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    seen: dict[str, Any] = {}

    def run_app(
        config: Config, warnings: Any, attach_only: bool, attach: Any = (), view: Any = None
    ) -> int:
        seen["running"] = isinstance(view, Runtime) and view.engine.running
        deadline = time.monotonic() + 10.0
        while not view.snapshot().metrics and time.monotonic() < deadline:
            time.sleep(0.01)
        seen["metrics"] = len(view.snapshot().metrics)
        return 0

    module = types.ModuleType(SCREEN)
    module.run_app = run_app  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, SCREEN, module)
    monkeypatch.setattr(cli, "TUI_ENTRY", SCREEN)
    config = parse(QUIET_SOURCES + "[collectors.synthetic]\nseries = 3\ninterval = 0.2\n")
    assert cli.cmd_run(config) == 0
    assert seen == {"running": True, "metrics": 3}
    assert not [t for t in threading.enumerate() if t.name.startswith("poll-")]
