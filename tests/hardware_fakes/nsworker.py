"""Provides a worker that runs inside its own mount namespace over a fake hwmon tree, and the
client that starts it and calls functions in it.

The client starts ``unshare -m --propagation private python -m tests.hardware_fakes.nsworker``;
the worker mounts a tmpfs over /sys/class (and /etc/sensors.d), builds the chip layouts, then
answers JSON-line requests: call a function by its dotted name (it runs in the namespace, so it
sees the fake tree, and so do the programs it starts) and send back its JSON-ready result.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (the worker runs there, so ``tests`` imports)."""


class WorkerError(AssertionError):
    """A function called in the namespace raised; carries its traceback."""


class FakeSys:
    """A fake machine: a mount namespace with the given chips under /sys/class/hwmon."""

    def __init__(
        self, layouts: tuple[str, ...] | list[str] = (), env: dict[str, str] | None = None
    ) -> None:
        """Args:
        layouts: chip layouts to build (``coretemp``, ``nct6775``, ``drivetemp``, ``nvme``).
        env: extra environment of the worker (``SENSORS_LIB`` ...).
        """
        argv = [
            "unshare",
            "-m",
            "--propagation",
            "private",
            sys.executable,
            "-m",
            "tests.hardware_fakes.nsworker",
            json.dumps(list(layouts)),
        ]
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        self.hwmon: dict[str, str] = self._receive()

    def call(self, func: str, **kwargs: Any) -> Any:
        """Call ``module:function`` in the namespace with keyword arguments; return its result."""
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"func": func, "kwargs": kwargs}) + "\n")
        self.proc.stdin.flush()
        return self._receive()

    def run(self, argv: list[str], env: dict[str, str] | None = None, timeout: float = 60) -> Any:
        """Run a program in the namespace; return ``{"rc", "stdout", "stderr"}``."""
        return self.call(f"{__name__}:run_program", argv=argv, env=env, timeout=timeout)

    def _receive(self) -> Any:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise WorkerError(f"the namespace worker died (exit status {self.proc.wait()})")
        answer = json.loads(line)
        if "error" in answer:
            raise WorkerError(answer["error"])
        return answer["result"]

    def close(self) -> None:
        """Stop the worker; its namespace and mounts go with it."""
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> FakeSys:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def require_namespace() -> None:
    """Skip (locally) or fail (in CI) unless this machine can make a fake hwmon tree: that
    takes root, ``unshare`` and ``mount``, and ``sensors`` to compare with."""
    import pytest

    from tests.conftest import IN_CI, require_tool

    for tool in ("unshare", "mount", "sensors"):
        require_tool(tool)
    if os.geteuid() != 0:
        message = "a fake /sys/class needs root (a private mount namespace and a tmpfs)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def run_program(argv: list[str], env: dict[str, str] | None, timeout: float) -> dict[str, Any]:
    """Run a program (inside the namespace) and return its exit status and output."""
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    return {"rc": proc.returncode, "stdout": proc.stdout, "stderr": proc.stderr}


def _setup(layouts: list[str]) -> dict[str, str]:
    from tests.hardware_fakes import hwmon_tree

    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "fakesys", "/sys/class"], check=True)
    os.makedirs("/etc/sensors.d", exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "fakeconf", "/etc/sensors.d"], check=True)
    os.makedirs("/sys/class/hwmon")
    return hwmon_tree.build(layouts)


def _serve() -> None:
    out = sys.stdout
    sys.stdout = sys.stderr  # what called functions print must not break the protocol
    try:
        result: Any = _setup(json.loads(sys.argv[1]))
        out.write(json.dumps({"result": result}) + "\n")
    except Exception:  # report every setup failure to the client, which raises it
        out.write(json.dumps({"error": traceback.format_exc()}) + "\n")
        return
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        module, _, name = request["func"].partition(":")
        try:
            result = getattr(importlib.import_module(module), name)(**request["kwargs"])
            answer = {"result": result}
        except Exception:  # the test sees the traceback as its failure
            answer = {"error": traceback.format_exc()}
        out.write(json.dumps(answer, default=str) + "\n")
        out.flush()


if __name__ == "__main__":
    _serve()
