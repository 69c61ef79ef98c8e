"""Provides the MQTT exporter: each metric's state under ``<topic>/<key>``, fired alerts under
``<topic>/alerts``, the exporter's availability under ``<topic>/status``, and Home Assistant
discovery (retained ``homeassistant/sensor/<node>/<object>/config``) for every metric."""

from __future__ import annotations

import json
import math
import os
import re
import socket
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho

from collectors.base import Batch
from engine.alerts import AlertRecord
from engine.engine import MetricState
from engine.exporters.config import MqttConfig
from engine.exporters.queue import PushExporter, Report, SendError

DISCOVERY_PREFIX = "homeassistant"
DEVICE_CLASS = {"°C": "temperature", "V": "voltage", "W": "power", "A": "current", "s": "duration"}
"""Units Home Assistant has a sensor device class for."""
_OBJECT_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_TOPIC_UNSAFE = re.compile(r"[+#\s\x00]")


@dataclass(frozen=True, slots=True)
class Message:
    """One message to publish."""

    key: str
    """The metric key (empty for an alert)."""
    topic: str
    payload: str
    unit: str = ""
    qos: int = 0


def object_id(key: str) -> str:
    """Return a metric key as a Home Assistant object id (``sensors_coretemp-isa-0000_Core_0``)."""
    return _OBJECT_UNSAFE.sub("_", key)


class MqttExporter(PushExporter[Message]):
    """Publishes to an MQTT broker; paho keeps the connection, this thread the queue."""

    name = "mqtt"

    def __init__(self, config: MqttConfig, report: Report, node: str | None = None) -> None:
        """Args:
        config: the broker, the base topic, discovery on or off, the timeout.
        report: tells the engine's events of a lost or regained broker.
        node: names this monitor in discovery (default: the host name).
        """
        super().__init__(report, config.timeout)
        self.config = config
        self.target = f"mqtt://{config.server}"
        self.node = object_id(f"gongwatch_{node or socket.gethostname()}")
        self._announced: set[str] = set()
        self._connected = threading.Event()
        # The pid keeps two monitors of one host (a screen and a test, say) from taking turns
        # throwing each other off the broker with the same client id.
        client_id = f"{self.node}-{os.getpid()}"
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.connect_timeout = config.timeout
        self._client.reconnect_delay_set(1, 30)
        self._client.will_set(self.status_topic, "offline", qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._looping = False

    @property
    def status_topic(self) -> str:
        """Where the exporter says ``online`` or, through the broker's will, ``offline``."""
        return f"{self.config.topic}/status"

    def state_topic(self, key: str) -> str:
        """Return the state topic of a metric key."""
        return f"{self.config.topic}/{_TOPIC_UNSAFE.sub('_', key)}"

    def encode(self, batch: Batch, changed: list[MetricState]) -> list[Message]:
        """Return each changed metric's state message (the number, or its text)."""
        out = []
        for st in changed:
            r = st.reading
            if r.value is not None and math.isfinite(r.value):
                payload = repr(r.value)
            elif r.text is not None:
                payload = r.text
            else:
                continue
            out.append(Message(r.key, self.state_topic(r.key), payload, r.unit))
        return out

    def on_alert(self, record: AlertRecord) -> None:
        """Alert listener: queue a finished alert record for ``<topic>/alerts``."""
        if record.result is None or self._thread is None:
            return  # the record is told again when it finishes
        payload = json.dumps(record.to_json(), ensure_ascii=False)
        self.enqueue([Message("", f"{self.config.topic}/alerts", payload, qos=1)])

    def start(self) -> None:
        """Connect in the background (paho retries) and start sending."""
        server = self.config.server
        self._client.connect_async(server.host, server.port, keepalive=30)
        self._client.loop_start()
        self._looping = True
        super().start()

    def stop(self) -> None:
        """Say offline, stop sending and disconnect."""
        if self._connected.is_set():
            self._client.publish(self.status_topic, "offline", qos=1, retain=True)
        super().stop()
        if self._looping:
            self._client.disconnect()
            self._client.loop_stop()
            self._looping = False

    def send(self, items: Sequence[Message]) -> None:
        """Publish the messages (and the discovery of metrics not yet announced)."""
        if not self._connected.wait(self.timeout):
            raise SendError("not connected")
        for msg in items:
            if self.config.discovery and msg.key and msg.key not in self._announced:
                self._publish(self.discovery_topic(msg.key), self.discovery(msg), 1, True)
                self._announced.add(msg.key)
            self._publish(msg.topic, msg.payload, msg.qos, False)

    def _publish(self, topic: str, payload: str, qos: int, retain: bool) -> None:
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise SendError(paho.error_string(info.rc))

    def discovery_topic(self, key: str) -> str:
        """Return the Home Assistant discovery topic of a metric."""
        return f"{DISCOVERY_PREFIX}/sensor/{self.node}/{object_id(key)}/config"

    def discovery(self, msg: Message) -> str:
        """Return the retained discovery config of a metric, as JSON."""
        config: dict[str, Any] = {
            "name": msg.key,
            "unique_id": f"{self.node}_{object_id(msg.key)}",
            "object_id": f"gongwatch_{object_id(msg.key)}",
            "state_topic": msg.topic,
            "availability_topic": self.status_topic,
            "device": {"identifiers": [self.node], "name": self.node, "manufacturer": "gongwatch"},
        }
        if msg.unit:
            config["unit_of_measurement"] = msg.unit
            config["state_class"] = "measurement"
        if msg.unit in DEVICE_CLASS:
            config["device_class"] = DEVICE_CLASS[msg.unit]
        return json.dumps(config, ensure_ascii=False)

    def _on_connect(
        self, client: paho.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        if rc.is_failure:
            return
        self._announced.clear()  # a broker without persistence forgot the retained configs
        client.publish(self.status_topic, "online", qos=1, retain=True)
        self._connected.set()
        self._wake.set()

    def _on_disconnect(
        self, client: paho.Client, userdata: Any, flags: Any, rc: Any, props: Any
    ) -> None:
        self._connected.clear()
