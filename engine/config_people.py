"""Provides the reading of the tables that reach people: ``[notify.<name>]`` targets,
``[[schedule]]`` calendars, and the durations they and the alert rules are written in."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from engine.config import MqttInConfig, MqttTrigger, NotifyTarget, ScheduleEntry
from engine.durations import parse_duration

if TYPE_CHECKING:
    from engine.config_reader import Reader

MAP_COMMAND = re.compile(r"[\w-]+ (up|slow|down|off)")
"""A map command an action may send: ``all slow``, ``london down``."""
_NAME = re.compile(r"[\w-]+")


def duration(reader: Reader, table: dict[str, Any], path: str, name: str, default: float) -> float:
    """Return ``table[name]`` as seconds: ``90s``, ``10m``, ``2h``, ``7d`` or a number."""
    value = table.get(name, default)
    try:
        seconds = parse_duration(value)
    except (ValueError, TypeError) as exc:
        raise reader.fail(f"{path}.{name}", str(exc)) from None
    if seconds > 366 * 86400.0:
        raise reader.fail(f"{path}.{name}", f"must be at most a year, got {value!r}")
    return seconds


def notify_targets(reader: Reader, data: dict[str, Any]) -> dict[str, NotifyTarget]:
    """Read the ``[notify.<name>]`` tables."""
    out = {}
    for name, table in reader.table(data, "notify").items():
        path = f"notify.{name}"
        if not isinstance(table, dict):
            raise reader.fail(path, "expected a table with urls = [...]")
        if not _NAME.fullmatch(name):
            raise reader.fail(path, "a name of letters, digits, - and _")
        reader.unknown(table, path, {"urls", "timeout", "group"})
        urls = reader.strings(table, path, "urls")
        if not urls:
            raise reader.fail(f"{path}.urls", "required, a list of notification URLs")
        timeout = duration(reader, table, path, "timeout", 10.0)
        if not 0.1 <= timeout <= 300.0:
            raise reader.fail(f"{path}.timeout", "must be between 0.1 s and 5 min")
        out[name] = NotifyTarget(name, urls, timeout, duration(reader, table, path, "group", 30.0))
    return out


def check_action(reader: Reader, key: str, action: str, notify: dict[str, NotifyTarget]) -> None:
    """Refuse a ``notify:<name>`` action whose target is not configured."""
    if action.startswith("notify:") and action[7:] not in notify:
        known = ", ".join(sorted(notify)) or "none is configured"
        raise reader.fail(key, f"{action!r}: no [notify.{action[7:]}] table ({known})")


def check_actions(
    reader: Reader, key: str, actions: tuple[str, ...], notify: dict[str, NotifyTarget]
) -> None:
    """Refuse an action a schedule or a trigger cannot run."""
    for a in actions:
        if a != "gong" and not a.startswith("notify:") and not MAP_COMMAND.fullmatch(a):
            raise reader.fail(key, f"unknown action {a!r} (gong, notify:NAME, a map command)")
        check_action(reader, key, a, notify)


def mqtt_in(
    reader: Reader, data: dict[str, Any], notify: dict[str, NotifyTarget]
) -> MqttInConfig | None:
    """Read ``[mqtt] url`` and its ``[[mqtt.triggers]]``; None when there are no triggers.

    ``topic``, ``discovery`` and ``timeout`` belong to the MQTT exporter and are left to it.
    """
    table = reader.table(data, "mqtt")
    reader.unknown(table, "mqtt", {"url", "topic", "discovery", "timeout", "triggers"})
    items = reader.array_of_tables(table, "triggers", "mqtt.triggers")
    if not items:
        return None
    url = reader.get(table, "mqtt", "url", str, "mqtt://127.0.0.1:1883")
    m = re.fullmatch(r"mqtt://([\w.-]+|\[[0-9a-fA-F:]+\])(?::(\d{1,5}))?/?", url)
    if m is None or not 0 < int(m.group(2) or 1883) < 65536:
        raise reader.fail("mqtt.url", "expected mqtt://HOST[:PORT]")
    triggers = []
    for i, it in enumerate(items):
        p = f"mqtt.triggers[{i}]"
        reader.unknown(it, p, {"topic", "actions"})
        topic = reader.get(it, p, "topic", str, "")
        if not topic or re.search(r"\s", topic):
            raise reader.fail(f"{p}.topic", "required, a topic filter without spaces")
        actions = reader.strings(it, p, "actions") or ("gong",)
        check_actions(reader, f"{p}.actions", actions, notify)
        triggers.append(MqttTrigger(topic, actions))
    host = m.group(1).strip("[]")
    return MqttInConfig(host, int(m.group(2) or 1883), tuple(triggers))


def schedules(
    reader: Reader, data: dict[str, Any], notify: dict[str, NotifyTarget]
) -> tuple[ScheduleEntry, ...]:
    """Read the ``[[schedule]]`` tables."""
    out = []
    known = {"name", "ics", "lead", "match", "actions", "refresh"}
    for i, it in enumerate(reader.array_of_tables(data, "schedule", "schedule")):
        p = f"schedule[{i}]"
        reader.unknown(it, p, known)
        ics = reader.get(it, p, "ics", str, "")
        if not ics:
            raise reader.fail(f"{p}.ics", "required, an .ics file or an http(s) URL")
        match = reader.get(it, p, "match", str, "")
        try:
            re.compile(match)
        except re.error as exc:
            raise reader.fail(f"{p}.match", f"not a regular expression: {exc}") from None
        actions = reader.strings(it, p, "actions") or ("gong",)
        check_actions(reader, f"{p}.actions", actions, notify)
        refresh = duration(reader, it, p, "refresh", 900.0)
        if refresh < 10.0:
            raise reader.fail(f"{p}.refresh", "must be at least 10 s")
        entry = ScheduleEntry(
            name=reader.get(it, p, "name", str, "") or f"schedule {i + 1}",
            ics=ics, lead=duration(reader, it, p, "lead", 0.0), match=match,
            actions=actions, refresh=refresh,
        )  # fmt: skip
        out.append(entry)
    return tuple(out)
