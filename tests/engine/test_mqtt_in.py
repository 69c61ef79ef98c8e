"""Tests MQTT triggers against Debian's mosquitto: a message on a topic strikes the emulated
gong and sets the map; one on another topic does nothing."""

from __future__ import annotations

import time
from pathlib import Path

import paho.mqtt.publish as publish
import pytest

from collectors.serial_link import Device, Gong, Map
from engine import Engine
from engine.alerts import AlertManager
from engine.config import ConfigError
from engine.config_reader import parse
from tests.emulator import EmulatedDevice
from tests.engine.exporters.push_servers import mosquitto

CONFIG = """
[mqtt]
url = "mqtt://127.0.0.1:{port}"
[[mqtt.triggers]]
topic = "home/+/doorbell"
actions = ["gong", "all down"]
"""


def test_a_message_on_a_topic_strikes_the_gong_and_sets_the_map(tmp_path: Path) -> None:
    with mosquitto(tmp_path) as port, EmulatedDevice("gong") as gong_emu, \
            EmulatedDevice("map") as map_emu:  # fmt: skip
        config = parse(CONFIG.format(port=port))
        gong_dev = Device("gong", gong_emu.port, ready_timeout=2.0)
        map_dev = Device("map", map_emu.port, ready_timeout=2.0)
        manager = AlertManager(
            config, gong=Gong(gong_dev), map=Map(map_dev), log_path=tmp_path / "a.log"
        )
        engine = Engine(config)
        manager.attach(engine)
        gong_dev.start()
        map_dev.start()
        manager.start_triggers()
        try:
            _wait(lambda: manager.mqtt_in is not None and manager.mqtt_in._client.is_connected())
            time.sleep(0.2)  # the subscription follows the connection
            publish.single("home/garden/light", "on", hostname="127.0.0.1", port=port)
            publish.single("home/front/doorbell", "ring", hostname="127.0.0.1", port=port)
            assert gong_emu.wait_event("strike") == "strike"
            assert map_emu.wait_event("all down") == "all down"
        finally:
            manager.close()
            gong_dev.stop()
            map_dev.stop()
    keys = sorted((r.action, r.key, r.detail) for r in manager.records())
    assert keys == [
        ("gong", "mqtt/home/front/doorbell", "home/front/doorbell: ring"),
        ("map", "mqtt/home/front/doorbell", "all down"),
    ]


def test_a_broker_that_is_not_there_is_an_event_not_a_crash(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = parse(CONFIG.format(port=port))
    engine = Engine(config)
    manager = AlertManager(config, log_path=tmp_path / "a.log")
    manager.attach(engine)
    manager.start_triggers()
    try:
        _wait(lambda: any(e.source == "mqtt" for e in engine.snapshot().events))
    finally:
        manager.close()
    (event,) = [e for e in engine.snapshot().events if e.source == "mqtt"]
    assert event.level == "warning" and f"mqtt://127.0.0.1:{port}" in event.text


def test_bad_trigger_configuration_names_its_key() -> None:
    with pytest.raises(ConfigError) as err:
        parse('[mqtt]\nurl = "http://x"\n[[mqtt.triggers]]\ntopic = "a"')
    assert err.value.key == "mqtt.url"
    with pytest.raises(ConfigError) as err:
        parse('[[mqtt.triggers]]\ntopic = "a b"')
    assert err.value.key == "mqtt.triggers[0].topic"


def _wait(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
