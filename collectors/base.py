"""Provides the Reading record (judged against its own limits by one rule), the Collector protocol
that every source implements (and SelfPolling, for sources that share a loop), the Deltas
behind every rate-like reading, and ``printable``, which makes text from outside safe to draw
on a terminal."""

from __future__ import annotations

import json
import math
import time as _time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable


class Status(StrEnum):
    """How a reading stands against the limits its source knows (not the detectors' opinion)."""

    OK = "ok"
    WARNING = "warning"
    CRITICAL = "critical"
    UNKNOWN = "unknown"


SEVERITY = {Status.OK: 0, Status.UNKNOWN: 1, Status.WARNING: 2, Status.CRITICAL: 3}
"""How bad each status is, for choosing the worse of two."""

NOT_KNOWN_YET = "not known yet"
"""The text of a reading whose value needs a sample the source has not taken yet (a rate or a
percentage on the first poll): it has no value rather than a made-up 0."""


def against_limits(
    value: float | None,
    low: float | None = None,
    high: float | None = None,
    crit: float | None = None,
    lcrit: float | None = None,
) -> tuple[Status, str | None]:
    """Judge a value against its own limits: the one rule every reading follows.

    Args:
        value: the number (None or not finite: nothing to judge).
        low: warning below this.
        high: warning above this.
        crit: critical at or above this.
        lcrit: critical at or below this.

    Returns:
        The status, and a short reason when it is not OK.
    """
    if value is None or not math.isfinite(value):
        return Status.OK, None
    if crit is not None and value >= crit:
        return Status.CRITICAL, "above crit"
    if lcrit is not None and value <= lcrit:
        return Status.CRITICAL, "below lcrit"
    if high is not None and value > high:
        return Status.WARNING, "above max"
    if low is not None and value < low:
        return Status.WARNING, "below min"
    return Status.OK, None


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one metric at one time."""

    key: str
    """Metric path, e.g. ``system/cpu/total`` or ``sensors/coretemp-isa-0000/Core 0``."""
    value: float | None
    """The number, in ``unit``; None for a reading that is only text (a model name, a state)."""
    unit: str = ""
    """Unit of ``value`` and of the limits: ``%``, ``°C``, ``RPM``, ``V``, ``B/s``, ``s`` ..."""
    time: float = field(default_factory=_time.time)
    """Wall-clock time of the reading, seconds since the epoch (UTC)."""
    low: float | None = None
    """Lower limit the source knows (a fan's min, a voltage's min), in ``unit``."""
    high: float | None = None
    """Upper warning limit (a sensor's max/high), in ``unit``."""
    crit: float | None = None
    """Upper critical limit (a sensor's crit), in ``unit``."""
    status: Status = Status.OK
    """The source's own verdict: an alarm bit or a limit crossed makes it WARNING or CRITICAL."""
    text: str | None = None
    """A human-readable value where a number says too little (``PASSED``, ``up``, a model name)."""
    label: str | None = None
    """A short display name, when the last part of ``key`` is not the best one."""
    lcrit: float | None = None
    """Lower critical limit (a sensor's lcrit), in ``unit``."""

    def __post_init__(self) -> None:
        # A value past its own limits is never OK, whatever its source said: the source's
        # status can only make it worse (an alarm bit, a failing disk), never better.
        status, why = against_limits(self.value, self.low, self.high, self.crit, self.lcrit)
        if SEVERITY[status] > SEVERITY[self.status]:
            if self.text is None or self.status is not Status.OK:
                object.__setattr__(self, "text", why)
            object.__setattr__(self, "status", status)

    @property
    def pending(self) -> bool:
        """Whether the value is not known yet (it needs a second sample)."""
        return self.value is None and self.text == NOT_KNOWN_YET

    def to_json(self) -> dict[str, object]:
        """Return the reading as a JSON-ready dict (limits only where known)."""
        out: dict[str, object] = {
            "key": self.key,
            "value": self.value,
            "unit": self.unit,
            "time": round(self.time, 3),
            "status": str(self.status),
        }
        for name in ("low", "high", "crit", "lcrit", "text"):
            v = getattr(self, name)
            if v is not None:
                out[name] = v
        return out


@dataclass(frozen=True, slots=True)
class Batch:
    """What one poll of one source returns."""

    source: str
    """Name of the collector that produced it."""
    readings: tuple[Reading, ...] = ()
    """The readings of this poll."""
    errors: tuple[str, ...] = ()
    """Problems with parts of the source (one clear line each); the rest of the poll is good."""
    unavailable: str | None = None
    """Set when the whole source cannot run here: why, and what to do about it."""
    gone: tuple[str, ...] = ()
    """Keys the source read before and knows are no more (a host's series, once its exporter
    is down): dropped from the snapshot, so their last values never pass for current ones."""

    @property
    def pending(self) -> bool:
        """Whether some readings are not known yet: polled again, the source can tell them."""
        return any(r.pending for r in self.readings)


@runtime_checkable
class Collector(Protocol):
    """A source of readings. ``poll`` may block; it is called off the UI thread, never twice at
    once, and must not raise for anything a user or the machine can cause: it reports that in
    the returned ``Batch`` instead."""

    name: str
    """Unique name of the source (``system``, ``sensors``, ``smart``, ``remote:sd`` ...)."""
    interval: float
    """Seconds between the end of one poll and the start of the next."""

    def poll(self) -> Batch:
        """Read the source once."""
        ...


Deliver = Callable[[Batch, float], None]
"""Takes a batch a source polled by itself, and the seconds its poll took."""


@runtime_checkable
class SelfPolling(Collector, Protocol):
    """A source that schedules its own polls, on a loop it shares with sources of its kind,
    instead of in a thread of the engine's (fifty HTTP checks need no fifty threads). Its
    ``poll`` still reads it once, for whoever asks (``gongwatch once``, tests)."""

    def start_polling(self, deliver: Deliver) -> None:
        """Poll every ``interval`` seconds from now on, the next poll scheduled when the last
        one has been delivered; ``deliver`` is called off the loop, one batch at a time for
        this source."""
        ...

    def stop_polling(self) -> None:
        """Stop polling: cancel the poll in flight and return once it has ended."""
        ...


class Deltas:
    """Ratios of the changes of counters between two polls of one collector: a byte rate is
    bytes over seconds, a CPU share busy time over all time. Every rate-like reading is made
    here, so none can show a made-up 0 before it has two samples."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, float]] = {}

    def ratio(self, key: str, numerator: float, denominator: float) -> float | None:
        """Record a sample of ``key``; return the change of ``numerator`` over the change of
        ``denominator`` since its last sample, or None when that cannot be known: no earlier
        sample, no change of the denominator, or a counter that went back (reset, wrapped)."""
        last = self._last.get(key)
        self._last[key] = (numerator, denominator)
        if last is None or denominator <= last[1] or numerator < last[0]:
            return None
        return (numerator - last[0]) / (denominator - last[1])


def not_known_yet(key: str, unit: str, time: float, label: str | None = None) -> Reading:
    """Return the reading of a metric whose value needs a sample not taken yet."""
    return Reading(key, None, unit, time, status=Status.UNKNOWN, text=NOT_KNOWN_YET, label=label)


def unavailable(source: str, reason: str) -> Batch:
    """Return a batch that says the source cannot run here, and why."""
    return Batch(source=source, unavailable=reason)


def _control_pictures() -> dict[int, str]:
    # C0 controls and DEL have Unicode pictures of their own (ESC is drawn as U+241B);
    # C1 controls (0x9b is a one-byte CSI to some terminals), the line and paragraph separators
    # and the bidirectional overrides, which reorder what follows them, have none: they are
    # written as escapes.
    table = {c: chr(0x2400 + c) for c in range(0x20)}
    table[0x7F] = "\u2421"
    for c in (*range(0x80, 0xA0), *range(0x2028, 0x202F), *range(0x2066, 0x206A)):
        table[c] = f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"
    return table


_PICTURES = _control_pictures()
TERMINAL_CONTROLS = frozenset(_PICTURES)
"""Code points a terminal acts on (or that reorder or break a line): what ``printable`` shows."""


def printable(text: str) -> str:
    """Return ``text`` with every control character made visible, safe to draw on a terminal.

    Names, labels, replies and error lines come from outside (an API, a sensor chip, a disk,
    a serial line); drawn raw, an ``ESC`` in them would drive the terminal (set its title,
    move the cursor) and a newline would break the line it is drawn in. Control characters
    become their Unicode pictures (``ESC`` is drawn as ␛, a newline as ␊); C1 controls, line
    and paragraph separators and bidirectional overrides become escapes such as ``\\x9b``.
    Other text is unchanged.

    Args:
        text: any text, as received.

    Returns:
        The text, one line, with nothing a terminal would act on.
    """
    return text.translate(_PICTURES)


_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in TERMINAL_CONTROLS if c >= 0x7F}


def json_line(data: dict[str, object]) -> str:
    """Return ``data`` as one JSON line that is safe on a terminal.

    JSON escapes the C0 controls itself; DEL, the C1 controls (0x9b starts an escape sequence
    on some terminals), the line separators and the bidirectional overrides are escaped here,
    so what is printed or logged holds nothing a terminal acts on, and reads back the same.
    """
    return json.dumps(data, ensure_ascii=False).translate(_JSON_ESCAPES)
