"""Provides MQTT triggers: a message on a topic of ``[[mqtt.triggers]]`` runs its actions
(strike the gong, set the map, notify). paho keeps the connection and reconnects in its own
thread; the actions are the alert manager's, which never block."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho

from collectors.base import printable
from engine.config import MqttInConfig, MqttTrigger

CONNECT_TIMEOUT = 5.0
MAX_SHOWN = 120
"""Characters of a payload shown in the record of what it triggered."""


class MqttTriggers:
    """Subscribes to every trigger's topic and runs its actions for each message."""

    def __init__(
        self,
        config: MqttInConfig,
        act: Callable[[MqttTrigger, str, str], None],
        say: Callable[[str, str], None] = lambda level, text: None,
    ) -> None:
        """Args:
        config: the broker and the triggers.
        act: runs a trigger's actions for a message (topic, payload as text).
        say: tells the user (``warning``/``info``, a line) the broker was lost or found.
        """
        self.config, self.act, self.say = config, act, say
        client_id = f"gongwatch-triggers-{socket.gethostname()}-{os.getpid()}"
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id)
        self._client.connect_timeout = CONNECT_TIMEOUT
        self._client.reconnect_delay_set(1, 30)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_message = self._on_message
        self._lost = False

    @property
    def where(self) -> str:
        """The broker, as the user wrote it."""
        return f"mqtt://{self.config.host}:{self.config.port}"

    def start(self) -> None:
        """Connect in the background (an absent broker is retried, never waited for)."""
        self._client.connect_async(self.config.host, self.config.port)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect and stop paho's thread."""
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: paho.Client, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        if rc.is_failure:
            self._lost = True
            self.say("warning", f"mqtt triggers: {self.where} refused: {rc}")
            return
        # Subscribed again on every connect: a broker without persistence forgets us.
        client.subscribe([(t.topic, 1) for t in self.config.triggers])
        if self._lost:
            self.say("info", f"mqtt triggers: {self.where} connected again")
        self._lost = False

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, rc: Any, _p: Any = None) -> None:
        if rc.is_failure and not self._lost:
            self._lost = True
            self.say("warning", f"mqtt triggers: lost {self.where}: {rc} (retrying)")

    def _on_connect_fail(self, _c: Any, _u: Any) -> None:
        if not self._lost:
            self._lost = True
            self.say("warning", f"mqtt triggers: cannot reach {self.where} (retrying)")

    def _on_message(self, _c: Any, _u: Any, msg: paho.MQTTMessage) -> None:
        payload = printable(msg.payload.decode("utf-8", "replace"))[:MAX_SHOWN]
        for trigger in self.config.triggers:
            if paho.topic_matches_sub(trigger.topic, msg.topic):
                self.act(trigger, msg.topic, payload)
