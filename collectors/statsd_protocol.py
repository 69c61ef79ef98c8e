"""Provides the StatsD line parser and the aggregation of one flush interval: counters with
sample rates, gauges with +/- deltas, timers and sets, within fixed memory bounds."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

MAX_NAMES = 10_000
"""Distinct names kept at once (counters, gauges, timers and sets together); lines with new
names beyond it are dropped and counted, so a client inventing names cannot exhaust memory."""
MAX_SAMPLES = 10_000
"""Timer values or set members kept per name per flush; the count goes on past it, the
other statistics come from the first ones."""
MAX_LINE = 1024
"""Characters in one line; a longer line is malformed."""
TYPES = {"c": "counter", "g": "gauge", "ms": "timer", "h": "timer", "s": "set"}
"""StatsD type codes (``h``, DogStatsD's histogram, is read as a timer)."""

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


@dataclass(frozen=True, slots=True)
class Sample:
    """One parsed StatsD line."""

    name: str
    """The metric name, sanitised to letters, digits, ``_``, ``-`` and ``.``."""
    kind: str
    """``counter``, ``gauge``, ``timer`` or ``set``."""
    value: float
    """The number (for a set, 0: the member is in ``member``)."""
    rate: float = 1.0
    """The client's sample rate, in (0, 1]."""
    delta: bool = False
    """A gauge given with a sign: added to the current value instead of replacing it."""
    member: str = ""
    """A set's member."""


def sanitise(name: str) -> str:
    """Return a name fit for a metric key: spaces become ``_``, ``/`` ``-``, the rest dropped."""
    return _UNSAFE.sub("", name.replace(" ", "_").replace("/", "-"))


def parse_line(line: str) -> Sample:
    """Parse one ``name:value|type[|@rate][|#tags]`` line (tags are accepted and ignored).

    Raises:
        ValueError: the line is not StatsD.
    """
    if len(line) > MAX_LINE:
        raise ValueError("line too long")
    name, sep, rest = line.partition(":")
    fields = rest.split("|")
    name = sanitise(name.strip())
    if not sep or not name or len(fields) < 2:
        raise ValueError("expected name:value|type")
    text, code = fields[0].strip(), fields[1].strip()
    kind = TYPES.get(code)
    if kind is None:
        raise ValueError(f"unknown type {code[:10]!r}")
    rate = 1.0
    for extra in fields[2:]:
        if extra.startswith("@"):
            rate = float(extra[1:])
            if not 0 < rate <= 1:
                raise ValueError("sample rate out of (0, 1]")
        elif not extra.startswith("#"):
            raise ValueError("unexpected field")
    if kind == "set":
        if not text:
            raise ValueError("empty set member")
        return Sample(name, kind, 0.0, rate, member=text[:200])
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("value not finite")
    return Sample(name, kind, value, rate, delta=kind == "gauge" and text[0] in "+-")


@dataclass(slots=True)
class Timer:
    """Timer values of one flush interval."""

    count: float = 0.0
    """Values seen, scaled up by their sample rates."""
    values: list[float] = field(default_factory=list)


@dataclass(slots=True)
class Interval:
    """What arrived in one flush interval (gauges outlive it: they keep their last value)."""

    counters: dict[str, float] = field(default_factory=dict)
    timers: dict[str, Timer] = field(default_factory=dict)
    sets: dict[str, set[str]] = field(default_factory=dict)
    lines: int = 0
    malformed: int = 0
    dropped_names: int = 0
    """Lines dropped because ``MAX_NAMES`` names were already kept."""


class Aggregator:
    """Adds samples into the current interval; ``flush`` hands it over and starts another."""

    def __init__(self) -> None:
        self.interval = Interval()
        self.gauges: dict[str, float] = {}
        self.known_counters: set[str] = set()
        """Counters seen before: reported as 0 in an interval they are silent in."""

    def names(self) -> int:
        """Return how many distinct names are kept."""
        iv = self.interval
        return len(self.known_counters) + len(self.gauges) + len(iv.timers) + len(iv.sets)

    def feed(self, packet: str) -> None:
        """Parse and add every line of one packet; malformed lines are counted, not raised."""
        iv = self.interval
        for line in packet.split("\n"):
            if not line.strip():
                continue
            iv.lines += 1
            try:
                self.add(parse_line(line))
            except ValueError:
                iv.malformed += 1

    def add(self, s: Sample) -> None:
        """Add one sample to the current interval."""
        iv = self.interval
        if s.kind == "counter":
            if s.name not in self.known_counters and not self._room():
                return
            self.known_counters.add(s.name)
            iv.counters[s.name] = iv.counters.get(s.name, 0.0) + s.value / s.rate
        elif s.kind == "gauge":
            if s.name not in self.gauges and not self._room():
                return
            base = self.gauges.get(s.name, 0.0) if s.delta else 0.0
            self.gauges[s.name] = base + s.value
        elif s.kind == "timer":
            timer = iv.timers.get(s.name)
            if timer is None:
                if not self._room():
                    return
                timer = iv.timers[s.name] = Timer()
            timer.count += 1.0 / s.rate
            if len(timer.values) < MAX_SAMPLES:
                timer.values.append(s.value)
        else:
            members = iv.sets.get(s.name)
            if members is None:
                if not self._room():
                    return
                members = iv.sets[s.name] = set()
            if len(members) < MAX_SAMPLES:
                members.add(s.member)

    def _room(self) -> bool:
        if self.names() < MAX_NAMES:
            return True
        self.interval.dropped_names += 1
        return False

    def flush(self) -> Interval:
        """Return the interval that ends now and start a new one."""
        done, self.interval = self.interval, Interval()
        for name in self.known_counters:
            done.counters.setdefault(name, 0.0)
        return done


def timer_stats(timer: Timer) -> dict[str, float]:
    """Return a timer's count, mean, 90th percentile, upper and lower (etsy's nearest rank)."""
    values = sorted(timer.values)
    n = len(values)
    rank = max(1, math.ceil(0.9 * n))
    return {
        "count": timer.count,
        "mean": math.fsum(values) / n,
        "p90": values[rank - 1],
        "upper": values[-1],
        "lower": values[0],
    }
