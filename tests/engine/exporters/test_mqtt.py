"""Tests the MQTT exporter against a real mosquitto, with a paho subscriber checking the
Home Assistant discovery configs, the states and the alerts."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as paho

from engine.alerts import AlertManager
from engine.config_reader import parse
from engine.exporters.mqtt import MqttExporter
from tests.engine.exporters.push_servers import mosquitto
from tests.engine.exporters.recorded import feed, recorded_batches
from tests.servers import free_port, wait_for


class Subscriber:
    """Collects every message on some topics (the last payload of each topic kept)."""

    def __init__(self) -> None:
        self.messages: dict[str, tuple[str, bool]] = {}
        self.alerts: list[dict[str, object]] = []
        self.retained: set[str] = set()
        """Topics whose message came from the broker's store (sent before we subscribed)."""
        self.lock = threading.Lock()

    def on_message(self, client: paho.Client, userdata: object, msg: paho.MQTTMessage) -> None:
        with self.lock:
            payload = msg.payload.decode()
            self.messages[msg.topic] = (payload, bool(msg.retain))
            if msg.retain:
                self.retained.add(msg.topic)
            if msg.topic.endswith("/alerts"):
                self.alerts.append(json.loads(payload))


@contextmanager
def subscribed(port: int, *topics: str) -> Iterator[Subscriber]:
    sub = Subscriber()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.on_message = sub.on_message
    ready = threading.Event()
    client.on_subscribe = lambda *_: ready.set()
    client.connect("127.0.0.1", port)
    client.subscribe([(t, 1) for t in topics])
    client.loop_start()
    try:
        assert ready.wait(10)
        yield sub
    finally:
        client.disconnect()
        client.loop_stop()


def retained(port: int, topic: str) -> dict[str, str]:
    """Return what the broker keeps for ``topic``, as a newcomer subscribing now sees it."""
    with subscribed(port, topic) as sub:
        try:
            wait_for(lambda: topic in sub.retained, 1, topic)
        except AssertionError:
            return {}
        return {t: sub.messages[t][0] for t in sub.retained}


def test_discovery_states_and_alerts(tmp_path: Path) -> None:
    batches = recorded_batches()
    with mosquitto(tmp_path) as port, subscribed(port, "gw/#", "homeassistant/#") as sub:
        config = parse(
            f'[mqtt]\nurl = "mqtt://127.0.0.1:{port}"\ntopic = "gw"\n'
            '[[alerts]]\nmetrics = "remote/**"\nseverity = "critical"\nactions = ["bell"]\n'
        )
        engine = feed(config, [])
        alerts = AlertManager(config, bell=lambda: None, log_path=tmp_path / "alerts.log")
        alerts.attach(engine)
        try:
            exporter = engine.exporters.get("mqtt")
            assert isinstance(exporter, MqttExporter)
            for b in batches:
                engine.ingest(b)
            key = "sensors/coretemp-isa-0000/Core 0"
            state = "gw/sensors/coretemp-isa-0000/Core_0"
            last = [r for b in batches for r in b.readings if r.key == key][-1]
            wait_for(lambda: sub.messages.get(state, ("",))[0] == repr(last.value), 20, "the state")
            disc = exporter.discovery_topic(key)
            wait_for(lambda: disc in sub.messages, 10, "the discovery config")
            payload = sub.messages[disc][0]
            config_msg = json.loads(payload)
            assert (
                disc
                == f"homeassistant/sensor/{exporter.node}/sensors_coretemp-isa-0000_Core_0/config"
            )
            assert config_msg["state_topic"] == state
            assert config_msg["unit_of_measurement"] == "°C"
            assert config_msg["device_class"] == "temperature"
            assert config_msg["availability_topic"] == "gw/status"
            assert sub.messages["gw/remote/web/new-york/status"][0] == "down"
            assert sub.messages["gw/status"][0] == "online"
            wait_for(lambda: len(sub.alerts) > 0, 10, "an alert message")
            assert sub.alerts[0]["action"] == "bell"
            assert str(sub.alerts[0]["key"]).startswith("remote/")
        finally:
            engine.stop()
            alerts.close()
        wait_for(lambda: sub.messages["gw/status"][0] == "offline", 10, "offline on stop")


def test_retained_discovery_and_a_broker_that_comes_up_later(tmp_path: Path) -> None:
    port = free_port()
    batches = recorded_batches()
    config = parse(f'[mqtt]\nurl = "mqtt://127.0.0.1:{port}"\ntopic = "late"\ntimeout = 1.0\n')
    engine = feed(config, batches)
    try:
        exporter = engine.exporters.get("mqtt")
        assert isinstance(exporter, MqttExporter)
        wait_for(lambda: any("cannot send" in e.text for e in engine.snapshot().events), 10,
                 "the exporter to notice the broker is away")  # fmt: skip
        queued, _ = exporter.queue_stats()
        assert queued > 0
        with mosquitto(tmp_path, port):
            wait_for(lambda: exporter.queue_stats()[0] == 0, 60, "the queue to drain")
            disc = exporter.discovery_topic("system/load/1m")
            wait_for(lambda: disc in retained(port, disc), 20, "the retained discovery config")
            assert retained(port, "late/status") == {"late/status": "online"}
        assert exporter.sent == queued
    finally:
        engine.stop()
