"""Tests that collectors, detectors and the engine work without the UI libraries and never import
them."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import collectors
import detectors
import engine

ROOT = Path(__file__).resolve().parent.parent

# Runs in a fresh interpreter where textual, rich and tui cannot be imported at all: every
# module of collectors/, detectors/ and engine/ must still import. (Third-party libraries that
# merely *try* rich for an optional CLI of their own, as httpx does, fall back by themselves.)
PROBE = """
import importlib, importlib.abc, sys
BLOCKED = ("textual", "rich", "tui")
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"blocked UI import: {name}")
        return None
sys.meta_path.insert(0, Block())
for m in NAMES:
    importlib.import_module(m)
bad = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print(",".join(bad))
"""


def modules(package: object) -> list[str]:
    prefix = package.__name__ + "."  # type: ignore[attr-defined]
    return [m.name for m in pkgutil.walk_packages(package.__path__, prefix)]  # type: ignore[attr-defined]


def probe(names: list[str]) -> subprocess.CompletedProcess[str]:
    """Import ``names`` in a fresh interpreter with the UI blocked, from ``ROOT``."""
    code = f"NAMES = {names!r}\n{PROBE}"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)


def test_collectors_and_detectors_import_neither_textual_nor_rich() -> None:
    names = ["collectors", "detectors", *modules(collectors), *modules(detectors)]
    out = probe(names)
    assert out.returncode == 0, out.stderr.strip().splitlines()[-1]
    assert out.stdout.strip() == "", f"UI modules imported: {out.stdout.strip()}"
    assert "collectors.system" in names and "detectors.robust" in names


def test_the_engine_imports_neither_textual_nor_rich_nor_tui() -> None:
    names = ["engine", *modules(engine)]
    out = probe(names)
    assert out.returncode == 0, out.stderr.strip().splitlines()[-1]
    assert out.stdout.strip() == "", f"UI modules imported: {out.stdout.strip()}"
    assert {"engine.cli", "engine.engine", "engine.alerts", "engine.view"} <= set(names)


def test_the_probe_catches_a_ui_import() -> None:
    out = probe(["textual.app"])
    assert out.returncode != 0 and "blocked UI import: textual" in out.stderr


def test_import_linter_contracts_are_kept() -> None:
    exe = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(exe)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-2000:]
    assert "2 kept, 0 broken" in out.stdout


LAZY = """
import sys
from engine.config_reader import parse
from engine.sources import build_collectors, config_warnings
import tui.app
config = parse(CONFIG)
build_collectors(config)
config_warnings(config)
WANTED = ("httpx", "plotext", "pySMART", "click", "pygments", "rich.progress", "rich.syntax")
print(",".join(sorted(m for m in WANTED if m in sys.modules)))
"""


def lazy_imports(config: str) -> str:
    code = f"CONFIG = {config!r}\n{LAZY}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr.strip().splitlines()[-1]
    return out.stdout.strip()


def test_the_monitor_imports_only_what_its_configuration_uses() -> None:
    """httpx only with a remote source, plotext only when a chart opens, pySMART only when
    smartctl finds a disk, and never httpx's own command line (click, pygments, Rich's progress
    and syntax): each costs megabytes that a monitor without them should not carry."""
    no_smartctl = '[collectors.smart]\nsmartctl = "/nonexistent/smartctl"\n'
    assert lazy_imports(no_smartctl) == ""
    assert lazy_imports("") == ""  # pySMART comes with the first disk smartctl can read
    remote = '[[remote.http]]\nname = "blog"\nurl = "http://127.0.0.1:9/"\n'
    assert lazy_imports(no_smartctl + remote) == "httpx"


PARSE = """
import sys
from engine.cli import TOOLS, build_parser, chosen_command
build_parser(chosen_command(ARGV), whole=False).parse_args(ARGV)
wanted = ["importlib.metadata", *(module for _, module in TOOLS.values())]
print(",".join(m for m in wanted if m in sys.modules))
"""


def parse_imports(argv: list[str]) -> str:
    code = f"ARGV = {argv!r}\n{PARSE}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr.strip().splitlines()[-1]
    return out.stdout.strip()


def test_the_command_line_loads_only_the_tool_it_runs() -> None:
    """The monitor and the daemon parse their command line without the modules of every other
    tool (or importlib.metadata, for a version nobody asked for): about 2 MiB they never use."""
    assert parse_imports([]) == ""
    assert parse_imports(["--config", "detect", "daemon", "--log", "x.log"]) == ""
    assert parse_imports(["run", "--attach-only"]) == ""
    assert parse_imports(["detect", "x.csv", "--detector", "auto"]) == "engine.detect_cli"


SCREEN = """
import sys
from engine.config_reader import parse
from engine.sources import build_collectors
import detectors
import tui.app
build_collectors(parse(""))
detectors.create("auto")
print(",".join(m for m in WANTED if m in sys.modules))
"""
NOT_AT_START = (
    "attr",
    "rich.pretty",
    "tui.screens.detail",
    "tui.chart",
    "detectors.shesd",
    "detectors.stl",
    "detectors.edm",
    "detectors.holtwinters",
)
"""Modules the monitor needs only later, if ever: Rich's pretty-printer (and the attrs package
it loads) came with Textual's RichLog; the detail screen, its chart and zoom with the first
metric opened; the other detectors when a configuration or a chart names them."""


def screen_imports(wanted: tuple[str, ...], then: str = "") -> str:
    code = f"WANTED = {wanted!r}\n{SCREEN}{then}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr.strip().splitlines()[-1]
    return out.stdout.strip()


def test_the_screen_starts_without_what_it_needs_only_later() -> None:
    assert screen_imports(NOT_AT_START) == ""
    # ... and the same program loads them when asked: the probe would see them.
    later = "import tui.screens.detail, rich.pretty\ndetectors.names()\n" + SCREEN.splitlines()[-1]
    assert screen_imports(NOT_AT_START, later).splitlines()[-1] == ",".join(NOT_AT_START)
