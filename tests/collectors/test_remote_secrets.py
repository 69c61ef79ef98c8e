"""Tests that the API token never leaks: not in readings, errors, logs, or ``gongwatch once``."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from collectors.base import Batch
from collectors.remote import config_warnings, protect_secret, redact
from collectors.serverdensity import ServerDensityCollector
from engine import Engine
from engine.config_reader import parse
from engine.sources import build_collectors
from engine.sources import config_warnings as warnings_of
from tests.remote_server import TOKEN, RemoteServer

FORMS = (TOKEN, quote(TOKEN, safe=""), quote_plus(TOKEN))
"""The token as it is, and as it looks inside a URL."""


def assert_clean(text: str) -> None:
    for form in FORMS:
        assert form not in text
    assert "T0KEN" not in text


@pytest.fixture
def server() -> Iterator[RemoteServer]:
    with RemoteServer() as srv:
        yield srv


def test_redact_masks_the_token_in_every_form() -> None:
    protect_secret(TOKEN)
    for form in FORMS:
        assert_clean(redact(f"GET http://h/x?token={form}&a=1 failed: {form}"))
    assert redact("http://h/?token=other&x=1") == "http://h/?token=***&x=1"


def test_the_token_is_in_no_reading_error_or_log_line(server: RemoteServer) -> None:
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)  # httpx logs every URL, query string and all, at INFO
    try:
        coll = ServerDensityCollector("sd", server.url, TOKEN, timeout=0.3)
        batches = [coll.poll()]
        server.override["/inventory/services"] = "401"
        batches.append(coll.poll())
        server.override["/inventory/services"] = "hang"
        batches.append(coll.poll())
        wrong = ServerDensityCollector("bad", server.url + "/?token=" + TOKEN, "nope")
        batches.append(wrong.poll())
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert "HTTP Request" in log.getvalue()  # the libraries did log, redacted
    assert_clean(log.getvalue())
    assert_clean(repr(coll) + repr(wrong) + dump(batches))
    assert all(b.errors for b in batches[1:])


def dump(batches: list[Batch]) -> str:
    lines = [json.dumps(r.to_json()) for b in batches for r in b.readings]
    lines += [e for b in batches for e in b.errors]
    return "\n".join(lines)


def test_engine_events_never_hold_the_token(server: RemoteServer) -> None:
    coll = ServerDensityCollector("sd", server.url, TOKEN, timeout=0.3, services=("web",))
    engine = Engine(parse(""), [coll])
    server.override["/inventory/services"] = "hang"
    engine.ingest(engine.poll_one(engine.collectors[0]))
    server.override.clear()
    engine.ingest(engine.poll_one(engine.collectors[0]))
    texts = [e.text for e in engine.snapshot().events]
    assert texts == ["services: no answer within 0.3 s", "recovered"]
    assert_clean(repr(engine.snapshot()))


def test_config_readable_by_others_with_a_token_is_warned_about(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[[remote.serverdensity]]\nname = "sd"\nurl = "http://x"\ntoken = "{TOKEN}"\n')
    path.chmod(0o644)
    config = parse(path.read_text(), str(path))
    (line,) = warnings_of(config)
    assert "chmod 600" in line and str(path) in line
    assert_clean(line)
    path.chmod(0o600)
    assert warnings_of(config) == []
    path.chmod(0o644)
    assert config_warnings(path, holds_token=False) == []  # token_env only: nothing to hide


def test_build_collectors_makes_one_per_remote_source() -> None:
    config = parse(
        '[[remote.serverdensity]]\nname = "sd"\nurl = "http://a"\ntoken_env = "GW_NO_SUCH_VAR"\n'
        '[[remote.http]]\nname = "a"\nurl = "http://a"\n[[remote.http]]\nname = "b"\nurl = "http://b"\n'
    )
    names = [c.name for c in build_collectors(config)]
    assert {"remote:sd", "http:a", "http:b"} <= set(names)
    sd = next(c for c in build_collectors(config) if c.name == "remote:sd")
    assert sd.poll().unavailable == (
        "no API token: set $GW_NO_SUCH_VAR for [[remote.serverdensity]] 'sd'"
    )


def test_once_json_reports_every_location_and_never_the_token(
    server: RemoteServer, tmp_path: Path
) -> None:
    exe = shutil.which("gongwatch", path=os.path.dirname(sys.executable))
    assert exe, "the gongwatch console script is not installed in this environment"
    config = tmp_path / "config.toml"
    config.write_text(
        "[collectors.system]\nenabled = false\n[collectors.sensors]\nenabled = false\n"
        "[collectors.smart]\nenabled = false\n"
        f'[[remote.serverdensity]]\nname = "sd"\nurl = "{server.url}"\ntoken_env = "GW_SD_TOKEN"\n'
        "timeout = 1.0\n"
        f'[[remote.http]]\nname = "blog"\nurl = "{server.url}/check/ok"\nslow = 2.0\n'
        f'[[remote.http]]\nname = "dead"\nurl = "{server.url}/check/hang"\ntimeout = 1.0\n'
    )
    env = {**os.environ, "GW_SD_TOKEN": TOKEN, "XDG_CONFIG_HOME": str(tmp_path)}
    out = subprocess.run(
        [exe, "--config", str(config), "once", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert_clean(out.stdout + out.stderr)
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    got = {d["key"]: d for d in lines if "key" in d}
    assert got["remote/web/sydney/status"]["text"] == "up"
    assert got["remote/web/london/status"]["text"] == "slow"
    assert got["remote/web/london/status"]["status"] == "warning"
    assert got["remote/web/new-york/status"]["text"] == "down"
    assert got["remote/web/sydney/time"]["value"] == 0.12
    assert got["remote/blog/local/status"]["text"] == "up"
    assert got["remote/dead/local/status"]["text"] == "down"
    errors = {d["error"] for d in lines if "error" in d}
    assert "no answer within 1 s" in errors
    assert "service 'stuck': no answer within 1 s" in errors
