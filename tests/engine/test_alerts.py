"""Tests the alert manager: rules, durations, the gong cooldown, commands, the map and the log."""

from __future__ import annotations

import json
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from collectors.base import Batch, Reading, Status
from collectors.serial_link import Device, DeviceState, Gong, Map, Reply
from engine import Engine
from engine.alerts import AlertManager, AlertRecord
from engine.config import AlertRule, Config, DeviceConfig
from engine.devices import Devices
from tests.clock import ManualClock
from tests.emulator import EmulatedDevice
from tests.firmware.simdevice import SimulatedDevice, require_firmware


class FakeDevice:
    """Stands in for a Device: records the lines and answers ``ok`` at once."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.state = DeviceState("fake", None)

    def submit(self, line: str, *, wait: float = 0.0) -> Future[Reply]:
        self.sent.append(line)
        future: Future[Reply] = Future()
        future.set_result(Reply(f"ok {line}", 0.01))
        return future

    def add_listener(self, listener: Any) -> None:
        pass

    def on_connect(self, greeter: Any) -> None:
        pass


class Waiter:
    """An alert listener that lets a test wait for finished records."""

    def __init__(self) -> None:
        self.done: list[AlertRecord] = []
        self._cond = threading.Condition()

    def __call__(self, rec: AlertRecord) -> None:
        if rec.result is not None:
            with self._cond:
                self.done.append(rec)
                self._cond.notify_all()

    def wait(self, count: int = 1) -> list[AlertRecord]:
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.done) >= count, 10), self.done
        return self.done


def rules(*items: AlertRule, locations: dict[str, str] | None = None) -> Config:
    return Config(alerts=items, map=DeviceConfig(locations=locations or {}))


def setup(
    config: Config, tmp_path: Path, cooldown: float = 5.0
) -> tuple[Engine, AlertManager, FakeDevice, ManualClock, list[int]]:
    clock = ManualClock(1000.0)
    device = FakeDevice()
    bells: list[int] = []
    gong = Gong(device, cooldown=cooldown, monotonic=clock)  # type: ignore[arg-type]
    leds = Map(device)  # type: ignore[arg-type]
    engine = Engine(config, monotonic=clock)
    manager = AlertManager(
        config, gong=gong, map=leds, bell=lambda: bells.append(1),
        log_path=tmp_path / "alerts.log", monotonic=clock,
    )  # fmt: skip
    manager.attach(engine)
    return engine, manager, device, clock, bells


def feed(engine: Engine, *readings: tuple[str, Status]) -> None:
    engine.ingest(Batch("test", tuple(Reading(k, 1.0, status=s) for k, s in readings)))


def test_a_rule_fires_once_after_its_duration(tmp_path: Path) -> None:
    config = rules(AlertRule("sensors/**", "critical", 10.0, ("gong",)))
    engine, manager, device, clock, _ = setup(config, tmp_path)
    for step in range(11):  # anomalous from t=0 to t=10
        feed(engine, ("sensors/chip/temp", Status.CRITICAL))
        assert device.sent == ([] if step < 10 else ["gong"])
        clock.now += 1.0
    feed(engine, ("sensors/chip/temp", Status.CRITICAL))
    assert device.sent == ["gong"]
    feed(engine, ("sensors/chip/temp", Status.OK))  # the run ends; a new one fires again
    clock.now += 60.0
    feed(engine, ("sensors/chip/temp", Status.CRITICAL))
    clock.now += 10.0
    feed(engine, ("sensors/chip/temp", Status.CRITICAL))
    assert device.sent == ["gong", "gong"]
    assert [r.result for r in manager.records()] == ["ok gong", "ok gong"]


def test_severity_and_glob_select_what_fires(tmp_path: Path) -> None:
    config = rules(AlertRule("sensors/*/temp", "critical", 0.0, ("gong",)))
    engine, _, device, _, _ = setup(config, tmp_path)
    feed(engine, ("sensors/chip/temp", Status.WARNING))
    feed(engine, ("sensors/chip/fan", Status.CRITICAL), ("system/cpu/total", Status.CRITICAL))
    feed(engine, ("sensors/a/b/temp", Status.CRITICAL))
    assert device.sent == []
    feed(engine, ("sensors/chip/temp", Status.CRITICAL))
    assert device.sent == ["gong"]


def test_a_storm_of_anomalies_strikes_the_gong_once(tmp_path: Path) -> None:
    config = rules(AlertRule("**", "warning", 0.0, ("gong", "bell")))
    engine, manager, device, clock, bells = setup(config, tmp_path, cooldown=5.0)
    feed(engine, *((f"disk/sd{i}/temperature", Status.CRITICAL) for i in range(20)))
    clock.now += 2.0
    feed(engine, *((f"sensors/fan{i}/rpm", Status.WARNING) for i in range(20)))
    assert device.sent == ["gong"]
    assert bells == [1, 1]  # once a batch
    results = [r.result for r in manager.records() if r.action == "gong"]
    assert results == ["ok gong"] + ["cooling down"] * 39
    clock.now += 3.5
    feed(engine, ("system/load/1m", Status.CRITICAL))
    assert device.sent == ["gong", "gong"]


def test_every_action_is_appended_to_the_log(tmp_path: Path) -> None:
    config = rules(AlertRule("system/**", "warning", 0.0, ("gong", "bell")))
    engine, manager, _, _, _ = setup(config, tmp_path)
    feed(engine, ("system/load/1m", Status.CRITICAL), ("system/cpu/total", Status.WARNING))
    lines = [json.loads(x) for x in (tmp_path / "alerts.log").read_text().splitlines()]
    assert [(x["action"], x["key"], x["result"]) for x in lines] == [
        ("gong", "system/load/1m", "ok gong"),
        ("bell", "system/load/1m", "rang"),
        ("gong", "system/cpu/total", "cooling down"),
        ("bell", "system/cpu/total", "already rang"),
    ]
    assert lines[0]["severity"] == "critical" and lines[0]["time"].endswith("+00:00")
    assert manager.log_error is None


def test_an_unwritable_log_is_reported_not_raised(tmp_path: Path) -> None:
    config = rules(AlertRule("**", "warning", 0.0, ("bell",)))
    (tmp_path / "alerts.log").mkdir()
    engine, manager, _, _, bells = setup(config, tmp_path)
    feed(engine, ("system/load/1m", Status.CRITICAL))
    assert bells == [1]
    assert manager.log_error is not None and "alerts.log" in manager.log_error


def test_a_command_runs_without_a_shell_with_the_alert_in_its_environment(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out.json"
    script = (
        "import json, os, sys; json.dump({k: v for k, v in os.environ.items() "
        "if k.startswith('GONGWATCH_ALERT_')} | {'argv': sys.argv[1:]}, open(sys.argv[1], 'w'))"
    )
    argv = (sys.executable, "-c", script, str(out), "$HOME; echo not a shell")
    config = rules(AlertRule("system/**", "warning", 0.0, ("command",), argv))
    engine, manager, _, _, _ = setup(config, tmp_path)
    waiter = Waiter()
    manager.add_listener(waiter)
    feed(engine, ("system/load/1m", Status.CRITICAL))
    assert waiter.wait()[0].result == "exit 0"
    env = json.loads(out.read_text())
    assert env["argv"] == [str(out), "$HOME; echo not a shell"]
    assert env["GONGWATCH_ALERT_METRIC"] == "system/load/1m"
    assert env["GONGWATCH_ALERT_SEVERITY"] == "critical"
    assert env["GONGWATCH_ALERT_VALUE"] == "1.0"
    assert env["GONGWATCH_ALERT_RULE"] == "system/**"
    manager.close()


def test_a_failing_command_is_recorded(tmp_path: Path) -> None:
    config = rules(
        AlertRule("a/**", "warning", 0.0, ("command",), ("/nonexistent/alert-hook",)),
        AlertRule("b/**", "warning", 0.0, ("command",), (sys.executable, "-c", "exit(3)")),
    )
    engine, manager, _, _, _ = setup(config, tmp_path)
    waiter = Waiter()
    manager.add_listener(waiter)
    feed(engine, ("a/x", Status.CRITICAL), ("b/y", Status.CRITICAL))
    results = sorted(r.result or "" for r in waiter.wait(2))
    assert results[0].startswith("cannot run: No such file")
    assert results[1] == "exit 3"
    manager.close()


def test_remote_statuses_light_the_map(tmp_path: Path) -> None:
    locations = {"blog/lon*": "london", "shop/*": "london", "blog/nyc": "new_york"}
    engine, manager, device, _, _ = setup(rules(locations=locations), tmp_path)

    def status(key: str, text: str) -> Reading:
        return Reading(f"remote/{key}/status", None, text=text)

    engine.ingest(Batch("sd", (status("blog/london1", "up"), status("blog/nyc", "slow"))))
    assert device.sent == ["london up", "new_york slow"]
    engine.ingest(Batch("sd", (status("blog/london1", "up"), status("blog/sydney", "down"))))
    assert device.sent == ["london up", "new_york slow"]  # unchanged, and sydney is not mapped
    engine.ingest(Batch("http", (status("shop/local", "down"),)))
    engine.ingest(Batch("sd", (status("blog/london1", "slow"),)))  # london shows the worst
    assert device.sent[2:] == ["london down"]
    engine.ingest(Batch("http", (status("shop/local", "up"),)))
    assert device.sent[2:] == ["london down", "london slow"]
    maps = [(r.key, r.detail, r.result) for r in manager.records() if r.action == "map"]
    assert maps[-1] == ("blog/london1", "london slow", "ok london slow")


def test_alert_rule_end_to_end_from_an_anomaly_to_a_strike(tmp_path: Path) -> None:
    """A detector finds a spike, the rule fires, the gong's thread strikes the emulator."""
    config = replace(
        rules(AlertRule("system/load/*", "warning", 0.0, ("gong",))),
        detector_rules=(("system/load/*", "robust_z"),),
    )
    with EmulatedDevice("gong", slow=0.3) as emu:
        device = Device("gong", emu.port, ready_timeout=2.0)
        devices = Devices(Gong(device, cooldown=5.0), Map(Device("map")))
        engine = Engine(config)
        manager = AlertManager(config, gong=devices.gong, log_path=tmp_path / "a.log")
        manager.attach(engine)
        devices.start()
        try:
            for i in range(60):
                engine.ingest(Batch("s", (Reading("system/load/1m", 1.0 + 0.01 * (i % 3)),)))
            assert emu.events == []
            start = time.monotonic()
            engine.ingest(Batch("s", (Reading("system/load/1m", 9.5),)))
            assert time.monotonic() - start < 0.2  # the collector thread never waits on serial
            assert emu.wait_event("strike") == "strike"
        finally:
            devices.stop()
    (rec,) = manager.records()
    assert (rec.action, rec.key, rec.result) == ("gong", "system/load/1m", "ok gong")
    assert "z=" in rec.detail


def test_two_rules_firing_while_the_gong_resets_strike_it_once(tmp_path: Path) -> None:
    config = rules(
        AlertRule("remote/**", "critical", 0.0, ("gong",)),
        AlertRule("system/**", "warning", 0.0, ("gong",)),
    )
    # The board eats the first pings while it boots: the first open fails, the next works.
    with EmulatedDevice("gong", reset_on_open=False, deaf=2) as emu:
        device = Device("gong", emu.port, reply_timeout=0.2, ready_timeout=0.05,
                        backoff=(0.05, 0.1))  # fmt: skip
        engine = Engine(config)
        manager = AlertManager(config, gong=Gong(device), log_path=tmp_path / "a.log")
        manager.attach(engine)
        done = Waiter()
        manager.add_listener(done)
        device.start()
        try:
            feed(engine, ("system/load/1m", Status.CRITICAL),
                 ("remote/shop/sydney/status", Status.CRITICAL))  # fmt: skip
            records = done.wait(2)
        finally:
            device.stop()
    assert emu.events == ["strike"]
    assert sorted(r.key for r in records) == ["remote/shop/sydney/status", "system/load/1m"]
    assert [r.result for r in records] == ["ok gong", "ok gong"]
    assert sum("joins the strike on its way" in r.detail for r in records) == 1


def test_devices_from_config() -> None:
    config = Config(gong=DeviceConfig(port="/dev/ttyUSB0", cooldown=7.5), map=DeviceConfig())
    devices = Devices.from_config(config)
    assert devices.gong.cooldown == 7.5
    assert devices.gong.device.state.port == "/dev/ttyUSB0"
    assert devices.map.device.state.port is None


def test_an_led_name_the_driver_refuses_is_recorded(tmp_path: Path) -> None:
    engine, manager, device, _, _ = setup(rules(locations={"blog/*": "all"}), tmp_path)
    engine.ingest(Batch("sd", (Reading("remote/blog/x/status", None, text="down"),)))
    assert device.sent == []
    assert (manager.records()[0].result or "").startswith("not sent:")


def test_an_anomaly_strikes_the_simulated_gong(tmp_path: Path) -> None:
    """The same path to the real gong firmware: the servo swings to the gong."""
    require_firmware()
    config = rules(AlertRule("sensors/**", "critical", 0.0, ("gong",)))
    with SimulatedDevice("gong") as sim:
        gong = Gong(Device("gong", sim.port, ready_timeout=3.0))
        engine = Engine(config)
        manager = AlertManager(config, gong=gong, log_path=tmp_path / "a.log")
        manager.attach(engine)
        waiter = Waiter()
        manager.add_listener(waiter)
        gong.device.start()
        try:
            feed(engine, ("sensors/chip/temp", Status.CRITICAL))
            sim.wait_event("servo 2000")
            assert waiter.wait()[0].result == "ok gong"
        finally:
            gong.device.stop()


def test_the_log_path_comes_from_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/someone")
    monkeypatch.setenv("XDG_STATE_HOME", "/state")
    assert AlertManager(Config(alert_log="~/a.log")).log_path == Path("/home/someone/a.log")
    assert AlertManager(Config()).log_path == Path("/state/gongwatch/alerts.log")


def test_a_missing_terminal_or_a_closing_app_never_stops_the_collector(tmp_path: Path) -> None:
    argv = (sys.executable, "-c", "")
    config = rules(AlertRule("**", "warning", 0.0, ("bell", "command"), argv))
    engine, manager, _, _, _ = setup(config, tmp_path)

    def no_terminal() -> None:
        raise OSError(5, "Input/output error")

    manager.bell = no_terminal
    manager.close()
    feed(engine, ("system/load/1m", Status.CRITICAL))  # must not raise
    results = [r.result or "" for r in manager.records()]
    assert results[0].startswith("cannot ring:")
    assert results[1] == "not run: gongwatch is stopping"
