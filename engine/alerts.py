"""Provides the alert manager: rules over anomalous metrics strike the gong, ring the bell or
run a command, and remote statuses light the map; every action is listed and logged."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collectors.base import Batch, json_line
from collectors.process import child_environment
from collectors.serial_link import CommandError, Gong, Map, Reply
from engine.alert_people import PeopleActions, device_outcome, make_notifier
from engine.alert_state import AlertState, default_state_path
from engine.alert_text import alert_message
from engine.config import AlertRule, Config, glob_match
from engine.engine import SEVERITY_RANK, Engine, MetricState
from engine.private import append_private, redact_argv

if TYPE_CHECKING:
    from engine.mqtt_in import MqttTriggers
    from engine.notify import Notifier
    from engine.schedule import Scheduler

MAX_RECORDS = 500
"""Actions kept in memory for the Alerts pane (the log file keeps them all)."""
COMMAND_TIMEOUT = 60.0
"""Seconds an alert command may run before it is killed."""
STATUS_RANK = {"up": 0, "slow": 1, "down": 2}
"""Remote statuses from best to worst; a map LED shows the worst of what maps to it."""


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One action an alert fired, and how it went."""

    id: int
    time: float
    """Wall-clock time it fired, seconds since the epoch."""
    action: str
    """``gong``, ``bell``, ``command`` or ``map``."""
    key: str
    """The metric key, or ``service/location`` for a map action."""
    severity: str
    """``warning``/``critical`` for a rule; the remote status for a map action."""
    detail: str
    """Why it fired, the command line, or what the map was told."""
    result: str | None = None
    """How it went (``ok gong``, ``cooling down``, ``exit 0``); None while it runs."""
    ok: bool = True
    """False when the action failed (an ``err`` reply, a lost device, a command's exit code)."""

    def to_json(self) -> dict[str, object]:
        """Return the record as one JSON-ready dict for the alert log."""
        when = datetime.fromtimestamp(self.time, UTC).isoformat(timespec="milliseconds")
        return {
            "time": when,
            "action": self.action,
            "key": self.key,
            "severity": self.severity,
            "detail": self.detail,
            "result": self.result,
            "ok": self.ok,
        }


def default_log_path() -> Path:
    """Return the alert log in the user's state directory."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(Path.home(), ".local", "state")
    return Path(base) / "gongwatch" / "alerts.log"


def terminal_bell() -> None:
    """Ring the bell of the terminal gongwatch runs in."""
    os.write(2, b"\a")


class AlertManager(PeopleActions):
    """Watches the engine's verdicts and fires the configured actions, never blocking it.

    Serial I/O goes to each device's own thread and commands to a small pool, so the collector
    thread that calls ``observe`` returns at once.
    """

    def __init__(
        self,
        config: Config,
        *,
        gong: Gong | None = None,
        map: Map | None = None,
        bell: Callable[[], object] = terminal_bell,
        log_path: str | os.PathLike[str] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        state_path: str | os.PathLike[str] | None = None,
        notifier: Notifier | None = None,
    ) -> None:
        """Args:
        config: the alert rules and the map's location names.
        gong: strikes the gong (its cooldown keeps a storm to one strike); None for no gong.
        map: the world map; None for none.
        bell: rings the terminal bell (the app passes one that goes through the UI thread).
        log_path: file every action is appended to (default: ``config.alert_log`` or the
            user's state directory).
        monotonic: the engine's monotonic clock, for how long a metric has been anomalous.
        wall: wall clock, for the records, silences and repeats.
        state_path: the alert state file (default: ``alerts.db`` beside the log).
        notifier: sends the ``notify:`` actions (default: one built from ``config.notify``).
        """
        self.rules: tuple[AlertRule, ...] = config.alerts
        self.locations = dict(config.map.locations)
        self.gong, self.map, self.bell = gong, map, bell
        self.log_path = Path(log_path or config.alert_log or default_log_path()).expanduser()
        self.log_error: str | None = None
        """Why the last write to the log failed; None when it works."""
        self._monotonic, self._wall = monotonic, wall
        self._lock = threading.RLock()
        self._records: OrderedDict[int, AlertRecord] = OrderedDict()
        self._next_id = 1
        self._fired: dict[tuple[int, str], float] = {}
        self._fired_counts: Counter[tuple[str, str]] = Counter()
        """(rule glob, action) to how many times it fired, for the exporters."""
        self._remote: dict[str, tuple[str, str]] = {}
        """``service/location`` to (LED, status)."""
        self._leds: dict[str, str] = {}
        self._strike_asked: Future[Reply] | None = None
        self._listeners: list[Callable[[AlertRecord], None]] = []
        self.on_error: Callable[[str, str, str], None] | None = None
        """Told ``(source, level, text)`` when the work of an action fails unexpectedly (the
        engine's ``report``): a bug in a command's thread or a device's reply never vanishes."""
        self._children: set[subprocess.Popen[str]] = set()
        self._closing = False
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="alert-command")
        self.state = AlertState(state_path or default_state_path(self.log_path))
        self.state_error: str | None = None
        """Why the last use of the state file failed; None when it works."""
        self.host = notifier.host if notifier is not None else socket.gethostname()
        self.notifier = notifier or make_notifier(config, self.host, monotonic)
        self._ended: list[tuple[AlertRule, MetricState, float]] = []
        self._hushed: set[tuple[int, str]] = set()
        self.schedules = config.schedules
        self.scheduler: Scheduler | None = None
        self.mqtt_in: MqttTriggers | None = None
        self._mqtt_config = config.mqtt_in
        self._take_up_open_alerts()

    def attach(self, engine: Engine) -> None:
        """Subscribe to the engine's batches; build the calendar strikes and MQTT triggers."""
        engine.subscribe(self.observe)
        engine.exporters.watch_alerts(self)
        self._build_triggers(engine)

    def add_listener(self, listener: Callable[[AlertRecord], None]) -> None:
        """Tell ``listener`` of every new or finished record (from any thread)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[AlertRecord], None]) -> None:
        """Stop telling ``listener``."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def fired_counts(self) -> dict[tuple[str, str], int]:
        """Return how many times each (rule's metric glob, action) has fired."""
        with self._lock:
            return dict(self._fired_counts)

    def listeners(self) -> list[Callable[[AlertRecord], None]]:
        """Return the listeners (to hand them to the manager of a new configuration)."""
        return list(self._listeners)

    def records(self) -> list[AlertRecord]:
        """Return the recent records, oldest first."""
        with self._lock:
            return list(self._records.values())

    def close(self) -> None:
        """Start no more commands, end the running ones (and their children), and wait for
        their threads: gongwatch leaves no process behind."""
        with self._lock:
            self._closing = True
            running = list(self._children)
        for proc in running:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self.notifier is not None:
            self.notifier.close()
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.mqtt_in is not None:
            self.mqtt_in.stop()

    def observe(self, batch: Batch, changed: list[MetricState]) -> None:
        """Engine observer: fire what the batch calls for (in the collector's thread)."""
        with self._lock:
            # No rule, nothing due: skip the per-metric walk for the many batches of a daemon
            # with no rules at all.
            due = [(r, st) for st in changed for r in self._due(st)] if self.rules else []
            leds = self._led_changes(changed)
            ended, self._ended = self._ended, []
        rang = False
        for (i, rule, repeat), st in due:
            if repeat or self._admit(i, rule, st):
                rang = self._fire(rule, st, rang, repeat)
        for rule, st, since in ended:
            self._resolve(rule, st, since)
        for led, status, key in leds:
            self._set_led(led, status, key)

    def _due(self, st: MetricState) -> list[tuple[int, AlertRule, bool]]:
        """Return the rules that fire for this metric now: once per anomalous run, then at the
        rule's repeat interval while nobody acknowledges it; and note the runs that end."""
        out = []
        now = self._monotonic()
        for i, rule in enumerate(self.rules):
            if not glob_match(rule.metrics, st.key):
                continue
            since = st.anomalous_since
            strong = SEVERITY_RANK[st.verdict.severity] >= SEVERITY_RANK[rule.severity]
            if not st.verdict.anomalous or since is None or not strong:
                if (was := self._fired.pop((i, st.key), None)) is not None:
                    self._ended.append((rule, st, self._wall() - (now - was)))
            elif now - since >= rule.for_seconds and self._fired.get((i, st.key)) != since:
                self._fired[(i, st.key)] = since
                out.append((i, rule, False))
            elif rule.repeat and self._fired.get((i, st.key)) == since and self._repeat(rule, st):
                out.append((i, rule, True))
        return out

    def _fire(self, rule: AlertRule, st: MetricState, rang: bool, repeat: bool = False) -> bool:
        """Run a rule's actions for one metric; return whether the bell has rung this batch."""
        v = st.verdict
        why = v.severity + (f": {v.reason}" if v.reason else "")
        for action in rule.actions:
            with self._lock:
                self._fired_counts[(rule.metrics, action)] += 1
            if action == "gong":
                self._strike(st.key, v.severity, why)
            elif action == "bell":
                self._ring(st, why, rang)
                rang = True
            elif action == "command":
                shown = " ".join(redact_argv(rule.command))
                rec = self._record("command", st.key, v.severity, shown)
                try:
                    env = self._environment(rule, st)
                    self._pool.submit(self._guard(self._run), rec, rule.command, env)
                except RuntimeError:  # the app is closing: the pool takes no more work
                    self._finish(rec, "not run: gongwatch is stopping", ok=False)
            elif action.startswith("notify:"):
                since = self._wall() - (self._monotonic() - (st.anomalous_since or 0.0))
                title, body = alert_message(
                    rule.label, st, self.host, since, self._wall(), repeat=repeat
                )
                self._notify(action, st.key, v.severity, title, body)
        return rang

    def _ring(self, st: MetricState, why: str, rang: bool) -> None:
        if rang:
            self._record("bell", st.key, st.verdict.severity, why, "already rang")
            return
        try:
            self.bell()
        except OSError as exc:  # no terminal to ring; the collector thread must go on
            self._record("bell", st.key, st.verdict.severity, why, f"cannot ring: {exc}")
            return
        self._record("bell", st.key, st.verdict.severity, why, "rang")

    def _strike(self, key: str, severity: str, why: str) -> None:
        if self.gong is None:
            self._record("gong", key, severity, why, "no gong configured")
            return
        future = self.gong.strike()
        if future is None:
            self._record("gong", key, severity, why, "cooling down")
            return
        # Alerts asking while a strike is on its way get that one: the gong rings once.
        joins = future is self._strike_asked
        self._strike_asked = future
        detail = why + (" (joins the strike on its way)" if joins else "")
        rec = self._record("gong", key, severity, detail)
        future.add_done_callback(self._guard(lambda f: self._finish(rec, *device_outcome(f))))

    def _guard(self, work: Callable[..., object]) -> Callable[..., None]:
        """Wrap work done on another thread so that its exception becomes an engine event
        (a pool or a future callback would otherwise only log it, or drop it)."""

        def guarded(*args: Any) -> None:
            try:
                work(*args)
            except Exception as exc:
                if self.on_error is None:
                    raise
                why = f"alert action failed: {type(exc).__name__}: {exc}"
                self.on_error("alerts", "error", why)

        return guarded

    def _environment(self, rule: AlertRule, st: MetricState) -> dict[str, str]:
        r, v = st.reading, st.verdict
        since = st.anomalous_since
        # Only what the command needs: never the token a token_env names, nor any other secret.
        return child_environment(
            {
                "GONGWATCH_ALERT_METRIC": st.key,
                "GONGWATCH_ALERT_SEVERITY": v.severity,
                "GONGWATCH_ALERT_VALUE": "" if r.value is None else repr(r.value),
                "GONGWATCH_ALERT_TEXT": r.text or "",
                "GONGWATCH_ALERT_UNIT": r.unit,
                "GONGWATCH_ALERT_SCORE": f"{v.score:.3f}",
                "GONGWATCH_ALERT_REASON": v.reason,
                "GONGWATCH_ALERT_FOR": f"{self._monotonic() - since:.1f}"
                if since is not None
                else "0",
                "GONGWATCH_ALERT_RULE": rule.metrics,
                "GONGWATCH_ALERT_TIME": datetime.fromtimestamp(r.time, UTC).isoformat(),
            }
        )

    def _run(self, rec: AlertRecord, argv: Sequence[str], env: dict[str, str]) -> None:
        """Run an alert command (an argument list, never a shell) in the pool."""
        try:
            # A session of its own, so that ending it on close ends its children too.
            proc = subprocess.Popen(
                list(argv), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, text=True, errors="replace", start_new_session=True,
            )  # fmt: skip
        except (OSError, ValueError) as exc:  # ValueError: a NUL in an alert's text
            self._finish(rec, f"cannot run: {getattr(exc, 'strerror', None) or exc}", ok=False)
            return
        with self._lock:
            # Registered and checked under one lock: close() either sees this child or has
            # already said it is closing, so no child outlives gongwatch.
            self._children.add(proc)
            closing = self._closing
        if closing:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        try:
            _, stderr = proc.communicate(timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            self._finish(rec, f"killed after {COMMAND_TIMEOUT:g} s", ok=False)
            return
        finally:
            with self._lock:
                self._children.discard(proc)
        if self._closing and proc.returncode == -signal.SIGKILL:
            self._finish(rec, "killed: gongwatch stopped", ok=False)
            return
        last = (stderr.strip().splitlines() or [""])[-1][:200]
        result = f"exit {proc.returncode}" + (f": {last}" if last else "")
        self._finish(rec, result, ok=proc.returncode == 0)

    def _led_changes(self, changed: list[MetricState]) -> list[tuple[str, str, str]]:
        """Return ``(led, status, service/location)`` for every LED whose status changes."""
        touched: set[str] = set()
        for st in changed:
            key = st.reading.key
            if not (key.startswith("remote/") and key.endswith("/status")):
                continue  # not a remote status: most keys, told apart without splitting them
            parts = key.split("/")
            if len(parts) != 4:
                continue
            where, status = f"{parts[1]}/{parts[2]}", (st.reading.text or "").lower()
            led = self._led_for(where)
            if led is not None and status in STATUS_RANK:
                self._remote[where] = (led, status)
                touched.add(led)
        out = []
        for led in sorted(touched):
            shown = [(st, where) for where, (lit, st) in self._remote.items() if lit == led]
            status, where = max(shown, key=lambda sw: STATUS_RANK[sw[0]])
            if self._leds.get(led) != status:
                self._leds[led] = status
                out.append((led, status, where))
        return out

    def _led_for(self, service_location: str) -> str | None:
        """Return the LED name configured for a ``service/location`` (first glob that matches)."""
        for pattern, led in self.locations.items():
            if glob_match(pattern, service_location):
                return led
        return None

    def _set_led(self, led: str, status: str, key: str) -> None:
        if self.map is None:
            return
        rec = self._record("map", key, status, f"{led} {status}")
        try:
            future = self.map.set(led, status)
        except CommandError as exc:
            self._finish(rec, f"not sent: {exc}", ok=False)
            return
        future.add_done_callback(self._guard(lambda f: self._finish(rec, *device_outcome(f))))

    def _record(
        self, action: str, key: str, severity: str, detail: str, result: str | None = None
    ) -> AlertRecord:
        with self._lock:
            rec = AlertRecord(self._next_id, self._wall(), action, key, severity, detail)
            self._next_id += 1
            self._records[rec.id] = rec
            while len(self._records) > MAX_RECORDS:
                self._records.popitem(last=False)
        if result is not None:
            return self._finish(rec, result)
        self._tell(rec)
        return rec

    def _finish(self, rec: AlertRecord, result: str, ok: bool = True) -> AlertRecord:
        """Set a record's result, append it to the log, and tell the listeners."""
        done = replace(rec, result=result, ok=ok)
        with self._lock:
            if done.id in self._records:
                self._records[done.id] = done
            self._append(done)
        self._tell(done)
        return done

    def _append(self, rec: AlertRecord) -> None:
        try:
            append_private(self.log_path, json_line(rec.to_json()) + "\n")
            self.log_error = None
        except OSError as exc:
            self.log_error = f"cannot write {self.log_path}: {exc.strerror or exc}"

    def _tell(self, rec: AlertRecord) -> None:
        for listener in list(self._listeners):
            listener(rec)
