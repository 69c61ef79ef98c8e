"""Provides shared fixtures for the detector tests: the reference data shipped beside the
project."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
"""The reference data folder (``../shared/data`` from the project root)."""


def _column(path: Path, col: int) -> np.ndarray:
    return np.loadtxt(path, delimiter=",", skiprows=1, usecols=col)


@pytest.fixture(scope="session")
def twitter() -> Path:
    """Folder of the Twitter R packages' data and the R outputs."""
    path = SHARED / "twitter"
    if not path.is_dir():
        pytest.skip(f"reference data not found at {path}")
    return path


@pytest.fixture(scope="session")
def extdata(twitter: Path) -> np.ndarray:
    """The hourly series shipped with AnomalyDetection (766 values)."""
    return _column(twitter / "extdata.csv", 1)


@pytest.fixture(scope="session")
def scribe(twitter: Path) -> np.ndarray:
    """The series shipped with BreakoutDetection (160 values)."""
    return _column(twitter / "scribe.csv", 1)
