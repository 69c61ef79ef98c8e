"""Tests the TOML configuration: the keys design.md promises, and errors that name key and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.config import Config, ConfigError, glob_match
from engine.config_reader import load, parse

DESIGN_EXAMPLE = """
[collectors.system]
interval = 1.0
[collectors.sensors]
interval = 5.0
[collectors.smart]
interval = 300.0
smartctl = "smartctl"

[[remote.serverdensity]]
name = "sd"
url = "https://api.serverdensity.io"
token_env = "SD_TOKEN"
interval = 60.0
[[remote.http]]
name = "blog"
url = "https://example.org/"
expect = [200]
timeout = 5.0
slow = 0.4
interval = 30.0

[devices.gong]
port = "/dev/ttyUSB0"
baud = 9600
cooldown = 5.0
[devices.map]
port = "/dev/ttyUSB1"
baud = 9600

[detectors]
default = "auto"
[detectors.metrics]
"remote/*/*/time" = "robust_z"

[[alerts]]
metrics = "sensors/**"
severity = "critical"
for = 10.0
actions = ["gong", "bell"]
"""


def test_the_design_example_parses() -> None:
    c = parse(DESIGN_EXAMPLE)
    assert c.collector("smart").interval == 300.0
    assert c.serverdensity[0].token_env == "SD_TOKEN"
    assert c.http[0].slow == 0.4 and c.http[0].expect == (200,)
    assert c.gong.port == "/dev/ttyUSB0" and c.gong.cooldown == 5.0
    assert c.alerts[0].for_seconds == 10.0 and c.alerts[0].actions == ("gong", "bell")
    assert c.detector_for("remote/blog/london/time") == "robust_z"


def test_defaults_without_a_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    c = load(None)
    assert c == Config()
    assert c.collector("system").interval == 1.0 and c.collector("sensors").interval == 5.0
    assert c.collector("smart").interval == 300.0


def test_the_users_file_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "gongwatch").mkdir()
    (tmp_path / "gongwatch" / "config.toml").write_text("[collectors.system]\nenabled = false\n")
    assert load(None).collector("system").enabled is False


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[collectors.system]\ninterval = 'fast'",
            "f.toml:2: collectors.system.interval: expected float",
        ),
        (
            "[collectors.system]\n\ninterval = 0",
            "f.toml:3: collectors.system.interval: must be between 0.1 and 86,400 seconds, got 0",
        ),
        ("[collectors.cpu]\ninterval = 1", "collectors.cpu: unknown key"),
        ("[collectors.system]\nenabled = 'no'", "collectors.system.enabled: expected bool"),
        (
            "[collectors.sensors]\ntrust_unset_alarms = 'yes'",
            "f.toml:2: collectors.sensors.trust_unset_alarms: expected bool",
        ),
        (
            "[collectors.system]\ntrust_unset_alarms = true",
            "f.toml:2: collectors.system.trust_unset_alarms: unknown key",
        ),
        ("[[remote.http]]\nname = 'x'", "remote.http[0].url: required"),
        ("[[remote.http]]\nname='a'\nurl='ftp://x'", "remote.http[0].url: must start with http"),
        ("[[remote.http]]\nname='a'\nurl='http://x'\nexpect=[999]", "remote.http[0].expect"),
        ("[devices.gong]\nbaud = 1234", "f.toml:2: devices.gong.baud: unsupported baud rate 1234"),
        ("[[alerts]]\nmetrics = 'x'\nactions = ['siren']", "alerts[0].actions: unknown action"),
        ("[[alerts]]\nmetrics='x'\nactions=['command']", "alerts[0].command: the command action"),
        ("[detectors]\ndefault = 'magic'", "f.toml:2: detectors.default: unknown detector 'magic'"),
        ("[general]\nhistory = 3", "general.history: must be between 10 and 100,000 points, got 3"),
        ("[general\nrefresh = 1", "f.toml:1: not valid TOML"),
    ],
)
def test_errors_name_the_key_and_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(text, "f.toml")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_trusting_alarms_against_unset_limits_is_off_unless_asked() -> None:
    from engine import build_collectors

    def sensors(text: str) -> object:
        return next(c for c in build_collectors(parse(text)) if c.name == "sensors")

    assert parse("").collector("sensors").trust_unset_alarms is False
    assert sensors("").trust_unset_alarms is False  # type: ignore[attr-defined]
    trusting = sensors("[collectors.sensors]\ntrust_unset_alarms = true\n")
    assert trusting.trust_unset_alarms is True  # type: ignore[attr-defined]
    for c in (sensors(""), trusting):
        c.close()  # type: ignore[attr-defined]


def test_missing_explicit_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load(tmp_path / "nope.toml")


def test_token_never_in_repr() -> None:
    c = parse("[[remote.serverdensity]]\nname='sd'\nurl='https://x'\ntoken='s3cret-token'")
    assert "s3cret-token" not in repr(c)
    assert c.serverdensity[0].resolve_token() == "s3cret-token"


@pytest.mark.parametrize(
    ("pattern", "key", "expected"),
    [
        ("sensors/**", "sensors/nct6775-isa-0290/fan2", True),
        ("sensors/*", "sensors/nct6775-isa-0290/fan2", False),
        ("remote/*/*/time", "remote/blog/sydney/time", True),
        ("remote/*/*/time", "remote/blog/sydney/status", False),
        ("system/cpu/?", "system/cpu/1", True),
        ("disk/sd[a]/x", "disk/sd[a]/x", True),  # brackets are literal, not a class
    ],
)
def test_glob(pattern: str, key: str, expected: bool) -> None:
    assert glob_match(pattern, key) is expected
