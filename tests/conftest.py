"""Shared test helpers: tools the tests need, and CI's rule that a missing tool fails."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(name: str) -> str:
    """Return the path of a system tool; without it, skip locally but fail in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (make test installs it with apt-get)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def pytest_configure(config: pytest.Config) -> None:
    """Keep the tests out of the user's own folders: the history file and alert log (state),
    the daemon's socket (runtime) and the configuration file (config) all go to a fresh
    folder, so a daemon running on this machine is never attached to by a test."""
    base = tempfile.mkdtemp(prefix="gongwatch-tests-")
    for var in ("XDG_STATE_HOME", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME"):
        folder = os.path.join(base, var.lower())
        os.makedirs(folder, mode=0o700)
        os.environ[var] = folder


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Real-hardware tests only run on request, never in CI."""
    if IN_CI or not os.environ.get("GONGWATCH_HARDWARE"):
        skip = pytest.mark.skip(reason="needs real hardware (set GONGWATCH_HARDWARE=1)")
        for item in items:
            if "hardware" in item.keywords:
                item.add_marker(skip)
