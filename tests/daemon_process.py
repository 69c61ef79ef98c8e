"""Provides a real ``gongwatch daemon`` process for the tests: its own runtime and state folders,
a short socket path, its log captured, and stopped by pid on the way out."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from engine.config import Config
from engine.daemon.status import fetch_status

ROOT = Path(__file__).resolve().parent.parent

QUIET_SOURCES = """
[collectors.system]
enabled = false
[collectors.sensors]
enabled = false
[collectors.smart]
enabled = false
"""
"""Turns off this machine's sources, so a test's daemon shows only what the test feeds it."""


class DaemonProcess:
    """``gongwatch --config FILE daemon`` in a folder of its own, as a subprocess."""

    def __init__(self, config_text: str, *, argv: list[str] | None = None) -> None:
        """Args:
        config_text: the configuration, without ``[daemon]`` (the socket is added).
        argv: the command to run instead of ``python -m engine.cli ... daemon`` (a unit
            file's ExecStart); ``{config}`` in it is replaced by the config's path.
        """
        # Short: a Unix socket's path must fit in 108 bytes.
        self.dir = Path(tempfile.mkdtemp(prefix="gw-"))
        self.socket = self.dir / "run" / "gongwatch.sock"
        self.config_path = self.dir / "config.toml"
        self.log_path = self.dir / "daemon.log"
        self.write_config(config_text)
        self.env = os.environ | {
            "XDG_RUNTIME_DIR": str(self.dir / "run"),
            "XDG_STATE_HOME": str(self.dir / "state"),
            "XDG_CONFIG_HOME": str(self.dir / "config"),
            "PYTHONPATH": str(ROOT),
        }
        base = [sys.executable, "-m", "engine.cli", "--config", "{config}", "daemon"]
        self.argv = [a.replace("{config}", str(self.config_path)) for a in (argv or base)]
        self.proc: subprocess.Popen[bytes] | None = None

    def write_config(self, text: str) -> None:
        """Write the configuration file (the daemon reads it again on SIGHUP)."""
        self.config_path.write_text(f'[daemon]\nsocket = "{self.socket}"\n{text}')

    @property
    def config(self) -> Config:
        """Enough configuration to find the daemon (whatever the file says now)."""
        return Config(daemon_socket=str(self.socket))

    def start(self, wait: bool = True) -> DaemonProcess:
        """Start the process and, with ``wait``, wait until it answers on its socket."""
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                self.argv, env=self.env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log,
                stderr=log,
            )  # fmt: skip
        if wait:
            self.wait_answering()
        return self

    def wait_answering(self, limit: float = 20.0) -> dict[str, Any]:
        """Wait until ``status`` answers; return it."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited {self.proc.returncode}: {self.log()}")
            status = fetch_status(self.config, timeout=1.0)
            if status is not None:
                return status
            time.sleep(0.1)
        raise AssertionError(f"daemon not answering after {limit} s: {self.log()}")

    def status(self) -> dict[str, Any] | None:
        """The daemon's status, or None."""
        return fetch_status(self.config, timeout=2.0)

    def wait_log(self, text: str, limit: float = 15.0) -> str:
        """Wait until the log has ``text``; return the log."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if text in (log := self.log()):
                return log
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not in the log: {self.log()}")

    def log(self) -> str:
        """What the daemon wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def signal(self, sig: int) -> None:
        """Send a signal to the daemon."""
        assert self.proc is not None
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, then wait; return the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def __enter__(self) -> DaemonProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)
