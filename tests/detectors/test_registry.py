"""Tests that every built-in detector is found by its name alone, its module loaded only then."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import detectors
from detectors.base import _REGISTRY, BUILTIN

ROOT = Path(__file__).resolve().parents[2]


def test_every_registered_detector_is_in_the_builtin_table() -> None:
    for module in pkgutil.iter_modules(detectors.__path__, "detectors."):
        __import__(module.name)
    builtin = {n for n, i in _REGISTRY.items() if i.factory.__module__.startswith("detectors.")}
    assert builtin == set(BUILTIN)
    for name, module in BUILTIN.items():
        assert _REGISTRY[name].factory.__module__ == module


PROBE = """
import sys
import detectors
before = {m for m in sys.modules if m.startswith("detectors.")}
info = detectors.info(NAME)
after = {m for m in sys.modules if m.startswith("detectors.")}
print(info.name, info.factory.__module__, MODULE in after - before, "detectors.shesd" in after)
"""


@pytest.mark.parametrize("name", ["auto", "robust_z", "ema"])
def test_a_detector_loads_its_own_module_alone(name: str) -> None:
    code = f"NAME = {name!r}\nMODULE = {BUILTIN[name]!r}\n{PROBE}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [name, BUILTIN[name], "True", "False"]


def test_an_unknown_name_lists_every_detector() -> None:
    with pytest.raises(KeyError, match=r"unknown detector 'nope'.*shesd"):
        detectors.info("nope")
    assert {"auto", "shesd", "edm", "sma"} <= set(detectors.names())
    assert set(detectors.names("batch")) == {"edm", "shesd"}
