"""Provides the alert actions that reach people, mixed into the alert manager: alerts opened,
silenced, repeated and resolved in the alert state file, ``notify:`` messages, and the actions
of calendar strikes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from collectors.base import printable
from engine.alert_state import AlertState, StateError
from engine.alert_text import resolved_message
from engine.config import AlertRule, Config, MqttInConfig, MqttTrigger, ScheduleEntry
from engine.durations import format_duration
from engine.engine import Engine, MetricState

if TYPE_CHECKING:
    from collectors.serial_link import Map, Reply
    from engine.alerts import AlertRecord
    from engine.mqtt_in import MqttTriggers
    from engine.notify import Notifier
    from engine.schedule import Occurrence, Scheduler


class PeopleActions:
    """The part of ``AlertManager`` that deals with people and calendars."""

    state: AlertState
    state_error: str | None
    notifier: Notifier | None
    scheduler: Scheduler | None
    mqtt_in: MqttTriggers | None
    schedules: tuple[ScheduleEntry, ...]
    _mqtt_config: MqttInConfig | None
    host: str
    map: Map | None
    _lock: Any
    _fired: dict[tuple[int, str], float]
    _hushed: set[tuple[int, str]]
    _wall: Callable[[], float]
    _monotonic: Callable[[], float]
    rules: tuple[AlertRule, ...]

    if TYPE_CHECKING:

        def _record(
            self, action: str, key: str, severity: str, detail: str, result: str | None = None
        ) -> AlertRecord: ...

        def _finish(self, rec: AlertRecord, result: str, ok: bool = True) -> AlertRecord: ...

        def _strike(self, key: str, severity: str, why: str) -> None: ...

        def _set_led(self, led: str, status: str, key: str) -> None: ...

    def _take_up_open_alerts(self) -> None:
        """Take up the alerts an earlier run left open: one whose metric is still anomalous is
        not announced again, and one whose metric has recovered is resolved."""
        if not self.state.path.exists():
            return
        try:
            wall = self._wall()
            left = self.state.alerts(wall)
        except StateError as exc:
            self.state_error = str(exc)
            return
        mono = self._monotonic()
        for alert in left:
            for i, rule in enumerate(self.rules):
                if rule.label == alert.rule:
                    self._fired[(i, alert.key)] = mono - (wall - alert.since)

    def act_on(self, what: str, key: str, seconds: float = 0.0) -> str:
        """Acknowledge (``ack``), silence (``silence``, for ``seconds``) or unsilence
        (``unsilence``) the alerts of one metric, as the Alerts pane's keys ask; return a line
        saying what was done. It reads and writes the state file: call it off the UI thread."""
        now = self._wall()
        try:
            if what == "ack":
                open_ = [a for a in self.state.alerts(now) if a.key == key]
                done = [a.id for a in open_ if self.state.ack(a.id, now)]
                return f"acknowledged {key}" if done else f"no firing alert on {key}"
            if what == "silence":
                self.state.silence(key, now + seconds)
                return f"silenced {key} for {format_duration(seconds)}"
            if self.state.unsilence(key):
                return f"unsilenced {key}"
            return f"no silence on {key}"
        except StateError as exc:
            return str(exc)

    def state_line(self) -> str:
        """Return the alert states in a few words: ``1 firing · 1 silenced · silence ...``."""
        now = self._wall()
        try:
            alerts, silences = self.state.alerts(now), self.state.silences(now)
        except StateError as exc:
            return str(exc)
        counts: dict[str, int] = {}
        for a in alerts:
            counts[a.state] = counts.get(a.state, 0) + 1
        parts = [f"{n} {state}" for state, n in sorted(counts.items())] or ["no open alerts"]
        for glob, until in silences.items():
            ends = datetime.fromtimestamp(until).astimezone().strftime("%H:%M")
            parts.append(f"silence {glob} until {ends}")
        return " · ".join(parts)

    def _build_triggers(self, engine: Engine) -> None:
        """Build the calendar strikes and the MQTT triggers the configuration asks for; their
        troubles become the engine's events."""
        if self.schedules and self.scheduler is None:
            from engine.schedule import Scheduler

            say = functools.partial(engine.note, "schedule")
            self.scheduler = Scheduler(
                self.schedules, self.state, self._calendar, say=say, wall=self._wall
            )
        if self._mqtt_config is not None and self.mqtt_in is None:
            from engine.mqtt_in import MqttTriggers

            say = functools.partial(engine.note, "mqtt")
            self.mqtt_in = MqttTriggers(self._mqtt_config, self._mqtt, say)

    def start_triggers(self) -> None:
        """Start looking at the calendars and listening to MQTT (in threads of their own)."""
        if self.scheduler is not None:
            self.scheduler.start()
        if self.mqtt_in is not None:
            self.mqtt_in.start()

    def _calendar(self, entry: ScheduleEntry, occ: Occurrence) -> None:
        """Run a schedule's actions for an occurrence due at its lead time."""
        when = datetime.fromtimestamp(occ.start, UTC).strftime("%H:%M UTC")
        self._run_actions(entry.actions, f"schedule/{entry.name}", f"{occ.title} at {when}")

    def _mqtt(self, trigger: MqttTrigger, topic: str, payload: str) -> None:
        """Run a trigger's actions for a message on its topic (in paho's thread)."""
        self._run_actions(trigger.actions, f"mqtt/{topic}", f"{topic}: {payload}")

    def _run_actions(self, actions: tuple[str, ...], key: str, why: str) -> None:
        for action in actions:
            if action == "gong":
                self._strike(key, "event", why)
            elif action.startswith("notify:"):
                title = f"gongwatch on {self.host}: {why}"
                self._notify(action, key, "event", printable(title), printable(why))
            elif self.map is not None:
                self._map_command(action, key)

    def _admit(self, i: int, rule: AlertRule, st: MetricState) -> bool:
        """Open the alert in the state file; return False when it was open already (before a
        restart: people were told) or when a silence covers it (noted once, and looked at again
        on the next batch)."""
        now = self._wall()
        try:
            hush = self.state.silenced(rule.label, st.key, now)
            if hush is None:
                why = st.verdict.reason or st.verdict.severity
                if not self.state.open(rule.label, st.key, why, now)[1]:
                    return False
        except StateError as exc:
            self.state_error = str(exc)  # the alert still fires: a broken file must not mute it
            return True
        with self._lock:
            if hush is None:
                self._hushed.discard((i, st.key))
                return True
            self._fired.pop((i, st.key), None)
            told = (i, st.key) in self._hushed
            self._hushed.add((i, st.key))
        if not told:
            self._record("silence", st.key, st.verdict.severity, rule.label, f"silenced by {hush}")
        return False

    def _repeat(self, rule: AlertRule, st: MetricState) -> bool:
        """Return whether a firing alert is due to repeat (never once acknowledged)."""
        now = self._wall()
        try:
            found = self.state.find(rule.label, st.key)
            if found is None or found[1] != "firing":
                return False
            return self.state.repeat_due(found[0], rule.repeat, now)
        except StateError as exc:
            self.state_error = str(exc)
        return False

    def _resolve(self, rule: AlertRule, st: MetricState, since: float) -> None:
        """Close the alert in the state file and tell the rule's notify targets it is over."""
        now = self._wall()
        try:
            if self.state.resolve(rule.label, st.key, now) is None:
                return  # it never fired (silenced all along): nobody was told, so no "resolved"
        except StateError as exc:
            self.state_error = str(exc)
        for action in rule.actions:
            if action.startswith("notify:"):
                title, body = resolved_message(rule.label, st, self.host, since, now)
                self._notify(action, st.key, "resolved", title, body)

    def _notify(self, action: str, key: str, severity: str, title: str, body: str) -> None:
        rec = self._record(action, key, severity, title)
        if self.notifier is None or action[7:] not in self.notifier.targets:
            self._finish(rec, f"no [notify.{action[7:]}] table", ok=False)
            return
        self.notifier.send(action[7:], title, body, lambda res, ok: self._finish(rec, res, ok))

    def _map_command(self, command: str, key: str) -> None:
        """Send a schedule's map command (``all slow``, ``london down``)."""
        if self.map is None:
            return
        led, status = command.split()
        if led != "all":
            self._set_led(led, status, key)
            return
        rec = self._record("map", key, status, command)
        self.map.all(status).add_done_callback(lambda f: self._finish(rec, *device_outcome(f)))


def make_notifier(config: Config, host: str, monotonic: Callable[[], float]) -> Notifier | None:
    """Return a notifier for the ``[notify.*]`` tables; None (and no import) when there are
    none."""
    if not config.notify:
        return None
    from engine.notify import Notifier

    return Notifier(config.notify, host=host, monotonic=monotonic)


def device_outcome(future: Future[Reply]) -> tuple[str, bool]:
    """Return how a device command went, in a few words, and whether it worked."""
    if future.cancelled():
        return "cancelled", False
    exc = future.exception()
    if exc is not None:
        return str(exc), False
    reply = future.result()
    return reply.line, reply.ok
