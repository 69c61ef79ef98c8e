"""Shared test helpers: tools the tests need, and CI's rule that a missing tool fails."""

from __future__ import annotations

import os
import shutil

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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Real-hardware tests only run on request, never in CI."""
    if IN_CI or not os.environ.get("GONGWATCH_HARDWARE"):
        skip = pytest.mark.skip(reason="needs real hardware (set GONGWATCH_HARDWARE=1)")
        for item in items:
            if "hardware" in item.keywords:
                item.add_marker(skip)
