"""Tests one screen attached to two real daemons by URL: each daemon's TCP address and its token,
both hosts in the Hosts pane and the Overview, a killed daemon shown as its host down (with
why, and none of its old values), and back up when it runs again."""

from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from engine.config import Config, ConfigError
from engine.config_reader import parse
from engine.many import ManyEngineView
from engine.span import SpanError
from tests.daemon_process import QUIET_SOURCES, DaemonProcess
from tests.prometheus_servers import free_port
from tui.app import GongwatchApp, make_app
from tui.panes.hosts import HostsPane
from tui.widgets import RowTable

from .helpers import FIXED_NOW, until

LOCAL = Config(refresh=0.2)
TOKEN = "correct-horse"


def daemon_config(name: str, port: int, series: int, token: str | None = TOKEN) -> str:
    guard = f'token = "{token}"\n' if token else ""
    return f"""listen = "127.0.0.1:{port}"
name = "{name}"
{guard}{QUIET_SOURCES}
[collectors.synthetic]
series = {series}
interval = 0.3
"""


@pytest.fixture
def daemons() -> Iterator[tuple[DaemonProcess, DaemonProcess, str, str]]:
    ports = free_port(), free_port()
    with (
        DaemonProcess(daemon_config("alpha", ports[0], 2)) as alpha,
        DaemonProcess(daemon_config("beta", ports[1], 3)) as beta,
    ):
        alpha.start()
        beta.start()
        yield alpha, beta, f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"


def test_a_daemon_listens_on_tcp_behind_its_token(
    daemons: tuple[DaemonProcess, DaemonProcess, str, str],
) -> None:
    alpha, _, url, _ = daemons
    assert httpx.get(f"{url}/v1/status").status_code == 401
    assert (
        httpx.get(f"{url}/v1/status", headers={"Authorization": "Bearer wrong"}).status_code == 401
    )
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        status = c.get("/v1/status").json()
        assert status["name"] == "alpha" and status["pid"] == alpha.proc.pid  # type: ignore[union-attr]
        # The configuration file stays on its machine (it may hold other secrets).
        assert c.get("/v1/config").json()["text"] == ""
    assert f"screens attach on {url} (with a token) as alpha" in alpha.wait_log("screens attach")


def test_a_taken_address_is_one_line_and_the_socket_still_serves() -> None:
    port = free_port()
    with socket.socket() as blocker, DaemonProcess(daemon_config("alpha", port, 2)) as d:
        blocker.bind(("127.0.0.1", port))
        blocker.listen()
        d.start()
        log = d.wait_log("cannot listen on")
        line = next(ln for ln in log.splitlines() if "cannot listen on" in ln)
        assert line.endswith(
            f"cannot listen on 127.0.0.1:{port}: Address already in use; serving on the socket only"
        )
        assert (d.status() or {}).get("name") == "alpha"


def test_an_address_other_machines_reach_needs_a_token() -> None:
    with pytest.raises(ConfigError, match=r"daemon\.listen.*set token or token_env"):
        parse('[daemon]\nlisten = "0.0.0.0:9878"\n')
    assert parse('[daemon]\nlisten = "0.0.0.0:9878"\ntoken = "x"\n').daemon.listen is not None
    assert parse('[daemon]\nlisten = "127.0.0.1:9878"\n').daemon.resolve_token() is None


def rows_by_host(app: GongwatchApp) -> dict[str, tuple[str, ...]]:
    app.tick()
    table = app.query_one("#hosts-table", RowTable)
    return {r.cells[0]: r.cells for r in table.rows if not r.heading}


def text(app: GongwatchApp, selector: str) -> str:
    return str(app.query_one(selector).render())


async def test_one_screen_shows_both_daemons_and_one_going_down_and_back(
    daemons: tuple[DaemonProcess, DaemonProcess, str, str],
) -> None:
    alpha, beta, alpha_url, beta_url = daemons
    view = ManyEngineView([alpha_url, beta_url], LOCAL, TOKEN)
    app = make_app(view=view, clock=lambda: FIXED_NOW, hostname="testhost")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press(str(1 + app.pane_classes.index(HostsPane)))
        both_up = lambda: {h: r[1] for h, r in rows_by_host(app).items()} == {  # noqa: E731
            "alpha": "up", "beta": "up"}  # fmt: skip
        await until(pilot, both_up)
        await until(pilot, lambda: rows_by_host(app)["beta"][4] == "4 metrics")  # 3 and up
        assert rows_by_host(app)["alpha"][4] == "3 metrics"
        assert "attached to 2 daemons" in text(app, "#header")
        # The Overview groups them by host too.
        await pilot.press("1")
        app.tick()
        headings = [r.cells[0] for r in app.query_one("#overview-table", RowTable).rows
                    if r.heading]  # fmt: skip
        assert headings == ["hosts/alpha", "hosts/beta"]
        await pilot.press(str(1 + app.pane_classes.index(HostsPane)))
        metrics = app.engine.snapshot().metrics
        assert {k.split("/")[1] for k in metrics} == {"alpha", "beta"}
        assert sum(k.startswith("hosts/beta/synthetic/") for k in metrics) == 3
        key = next(k for k in metrics if k.startswith("hosts/alpha/synthetic/"))
        await until(pilot, lambda: len(app.engine.history(key)) >= 2)
        # A chart's span of a host's metric comes from that daemon's history file, over TCP.
        now = time.time()
        span = await asyncio.to_thread(app.engine.span, key, now - 600, now + 1, 100)
        assert span.tier == "raw" and len(span) >= 2
        with pytest.raises(SpanError, match="none of the daemons attached"):
            app.engine.span("hosts/gamma/x", now - 600, now, 100)

        beta.signal(signal.SIGKILL)
        beta.proc.wait(10)  # type: ignore[union-attr]
        await until(pilot, lambda: rows_by_host(app)["beta"][1] == "down")
        down = rows_by_host(app)["beta"]
        assert down[1:5] == ("down", "critical", "1 anomalous", "1 metric")
        assert not [k for k in app.engine.snapshot().metrics if k.startswith("hosts/beta/synth")]
        problems = text(app, "#hosts-problems")
        assert f"daemon:beta: not answering at {beta_url}" in problems
        assert rows_by_host(app)["alpha"][1] == "up"
        assert "1 not answering" in text(app, "#header")

        beta.start()
        await until(pilot, lambda: rows_by_host(app)["beta"][1:5] == (
            "up", "ok", "0 anomalous", "4 metrics"))  # fmt: skip
        assert "daemon:beta" not in text(app, "#hosts-problems")
    assert not [t for t in threading.enumerate() if t.name.startswith("daemon-")]
    assert alpha.stop() == 0


def test_attach_is_repeatable_before_or_after_run() -> None:
    from engine.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(["--attach", "http://a:1", "--attach", "/s"]).attach == [
        "http://a:1", "/s"]  # fmt: skip
    assert parser.parse_args(["run", "--attach", "http://b:2"]).attach == ["http://b:2"]
    assert parser.parse_args([]).attach == []
