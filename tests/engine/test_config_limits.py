"""Tests that a configuration the reader accepts can run: every number has a sane range, NaN and
infinities are refused, and whatever is wrong is said in one line naming file, line and key."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.config import ConfigError
from engine.config_reader import RANGES, parse

NUMERIC_KEYS = {
    "general.refresh": "[general]\nrefresh = {}",
    "general.history": "[general]\nhistory = {}",
    "collectors.system.interval": "[collectors.system]\ninterval = {}",
    "collectors.smart.interval": "[collectors.smart]\ninterval = {}",
    "remote.serverdensity[0].interval": "[[remote.serverdensity]]\nname='s'\nurl='http://x'\ninterval={}",
    "remote.serverdensity[0].timeout": "[[remote.serverdensity]]\nname='s'\nurl='http://x'\ntimeout={}",
    "remote.http[0].interval": "[[remote.http]]\nname='b'\nurl='http://x'\ninterval = {}",
    "remote.http[0].timeout": "[[remote.http]]\nname='b'\nurl='http://x'\ntimeout = {}",
    "remote.http[0].slow": "[[remote.http]]\nname='b'\nurl='http://x'\nslow = {}",
    "devices.gong.cooldown": "[devices.gong]\ncooldown = {}",
    "alerts[0].for": "[[alerts]]\nmetrics = 'x'\nfor = {}",
}  # fmt: skip
"""Every number of the configuration, as a one-key file with a place for the value."""


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("general.refresh", "nan"),
        ("general.refresh", "1e-9"),
        ("general.refresh", "inf"),
        ("general.history", "1000000000000"),
        ("collectors.system.interval", "nan"),
        ("collectors.system.interval", "1e-9"),
        ("collectors.system.interval", "1e300"),
        ("remote.http[0].timeout", "nan"),
        ("devices.gong.cooldown", "-1"),
        ("alerts[0].for", "nan"),
        ("alerts[0].for", "-inf"),
    ],
)
def test_values_that_would_kill_the_monitor_are_refused(key: str, value: str) -> None:
    text = NUMERIC_KEYS[key].format(value)
    with pytest.raises(ConfigError) as err:
        parse(text, "c.toml")
    message = str(err.value)
    line = text.splitlines().index(NUMERIC_KEYS[key].format(value).splitlines()[-1]) + 1
    assert message.startswith(f"c.toml:{line}: {key}: must be between ")
    assert re.search(r"must be between [\d.,]+ and [\d.,]+( seconds| points)?, got ", message)
    assert "\n" not in message


def test_the_range_is_stated_in_words() -> None:
    with pytest.raises(ConfigError) as err:
        parse("[collectors.system]\ninterval = nan", "c.toml")
    assert str(err.value) == (
        "c.toml:2: collectors.system.interval: must be between 0.1 and 86,400 seconds, got nan"
    )


def test_every_number_of_the_config_has_a_range() -> None:
    for key in NUMERIC_KEYS:
        assert key.rsplit(".", 1)[-1] in RANGES, key
    for name, (low, high, _unit) in RANGES.items():
        assert 0 <= low < high < 1e7, name


def test_the_edges_of_each_range_are_accepted() -> None:
    for key, template in NUMERIC_KEYS.items():
        low, high, _ = RANGES[key.rsplit(".", 1)[-1]]
        for edge in (low, high):
            parse(template.format(int(edge) if key.endswith("history") else float(edge)))


def test_a_deeply_nested_array_is_one_line() -> None:
    depth = 5000
    with pytest.raises(ConfigError) as err:
        parse("[general]\nrefresh = " + "[" * depth + "]" * depth, "c.toml")
    assert "nested too deeply" in str(err.value) and "\n" not in str(err.value)


def test_a_key_holding_a_newline_or_an_escape_stays_on_one_line() -> None:
    with pytest.raises(ConfigError) as err:
        parse('[general]\n"refresh\\n\\u001b[2J" = 1.0', "c.toml")
    message = str(err.value)
    assert "\n" not in message and "\x1b" not in message
    assert "general.refresh␊␛[2J: unknown key" in message


def test_a_nul_in_a_path_or_command_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"general\.alert_log: must not hold"):
        parse('[general]\nalert_log = "/tmp/a\\u0000b"', "c.toml")
    with pytest.raises(ConfigError, match=r"alerts\[0\].command: must not hold"):
        parse('[[alerts]]\nmetrics="x"\nactions=["command"]\ncommand=["a\\u0000"]', "c.toml")


@settings(max_examples=150, deadline=None)
@given(
    key=st.sampled_from(sorted(NUMERIC_KEYS)),
    value=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(min_value=-(2**63), max_value=2**63 - 1),
    ),
)
def test_every_number_is_accepted_in_range_or_refused_in_one_line(key: str, value: float) -> None:
    if key.endswith("history"):
        value = int(value) if math.isfinite(value) else value
    text = NUMERIC_KEYS[key].format(_toml(value))
    try:
        config = parse(text, "c.toml")
    except ConfigError as exc:
        assert "\n" not in str(exc) and f": {key}: " in str(exc)
        return
    low, high, _ = RANGES[key.rsplit(".", 1)[-1]]
    assert math.isfinite(value) and low <= value <= high
    assert config is not None


def _toml(value: float) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if value != value else ("inf" if value > 0 else "-inf")
    return repr(value)


@pytest.mark.parametrize("value", ["nan", "1e-9", "inf"])
def test_the_console_script_exits_2_with_one_line(tmp_path: Path, value: str) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(f"[general]\nrefresh = {value}\n")
    exe = shutil.which("gongwatch", path=str(Path(sys.executable).parent))
    assert exe
    out = subprocess.run(
        [exe, "once", "--config", str(cfg)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "general.refresh: must be between" in out.stderr
