"""Provides FakeSmartctl: an executable ``smartctl`` in a temporary folder that replays one
recorded machine from ../shared/data/smartctl, and lets a test change the machine between polls."""

from __future__ import annotations

import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

FAKE = Path(__file__).resolve().parent / "fake_smartctl.py"
RECORDINGS = Path(__file__).resolve().parents[3] / "shared" / "data" / "smartctl"
"""The recorded outputs (``../shared/data/smartctl`` from the repository root)."""


def recorded_machines() -> list[Path]:
    """Return every recorded machine folder (``singletests/*`` and ``listingtests/*``)."""
    return sorted(p for p in RECORDINGS.glob("*/*") if (p / "device.json").is_file())


class FakeSmartctl:
    """A ``smartctl`` program that replays one recorded machine."""

    def __init__(self, where: Path, machine: Path, *more: Path) -> None:
        """Args:
        where: a folder of the test's own; the program is ``where/bin/smartctl``.
        machine: the recorded machine to replay.
        more: other recorded machines whose disks this one has too.
        """
        self.machine = machine
        self.log = where / "smartctl.log"
        self.state_file = where / "smartctl-state.json"
        bindir = where / "bin"
        bindir.mkdir(parents=True, exist_ok=True)
        self.path = bindir / "smartctl"
        env = {
            "FAKE_SMARTCTL_DIR": ":".join(str(m) for m in (machine, *more)),
            "FAKE_SMARTCTL_LOG": str(self.log),
            "FAKE_SMARTCTL_STATE": str(self.state_file),
        }
        assigns = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        # The fake needs no site packages: prefer the system's Python, which any user may run
        # (a virtual environment's interpreter may live in root's home).
        python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
        # -I -S: no site packages, so each call costs ~15 ms, as a real smartctl roughly does.
        self.path.write_text(
            f"#!/bin/sh\n{assigns} exec {shlex.quote(python)} -I -S "
            f'{shlex.quote(str(FAKE))} "$@"\n',
            encoding="utf-8",
        )
        self.path.chmod(0o755)
        self.log.touch()
        self.log.chmod(0o666)  # tests run the monitor as nobody too

    @property
    def meta(self) -> dict[str, Any]:
        """What pySMART parsed from this machine (its device.json)."""
        return json.loads((self.machine / "device.json").read_text(encoding="utf-8"))

    def set_state(self, **state: Any) -> None:
        """Change the machine from the next call on (standby, gone, denied, garbage, ...)."""
        self.state_file.write_text(json.dumps(state), encoding="utf-8")

    def calls(self) -> list[dict[str, Any]]:
        """Every call so far: its arguments, and whether it passed ``--nocheck standby``."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text(encoding="utf-8").splitlines()]
