"""Provides the Prometheus collector: the series of many hosts, read from a Prometheus server by
a PromQL selector, each host's ``up`` with them, so a host that goes away shows as down."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

from collectors.base import Batch, Reading, Status
from collectors.prometheus_range import (
    BACKFILL_POINTS,
    MOST_TOTAL,
    Past,
    read_past,
    window,
)
from collectors.remote import Fetched, fetch, redact
from collectors.remote_loop import new_client, run_async

HOSTS = "hosts"
"""First part of the key of every reading of a host watched through Prometheus."""
MAX_SERIES = 2_000
"""Series read per source at most, unless configured otherwise."""

UNITS = (
    ("_celsius", "°C"),
    ("_seconds", "s"),
    ("_bytes", "B"),
    ("_volts", "V"),
    ("_rpm", "RPM"),
    ("_percent", "%"),
    ("_watts", "W"),
    ("_amperes", "A"),
    ("_hertz", "Hz"),
)
"""Units from Prometheus' naming conventions (a metric name ends with its base unit)."""

_JOB_MATCHER = re.compile(r'\bjob\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")')


@dataclass(frozen=True, slots=True)
class Answer:
    """The outcome of one instant query."""

    series: list[dict[str, Any]]
    """The vector's samples: ``{"metric": {labels}, "value": [time, "value"]}``."""
    error: str | None = None
    """Why there are no series: one stable line."""


def host_key(instance: str) -> str:
    """Return the key prefix of one host, ``hosts/<instance>`` (a ``/`` in it becomes ``_``)."""
    return f"{HOSTS}/{instance.replace('/', '_') or 'unknown'}"


def series_key(labels: dict[str, str]) -> str:
    """Return the stable key of a series: ``hosts/<instance>/<name>[/<label>=<value>,...]``.

    The job and the instance are left out of the labels that tell series apart (the instance
    is the host, the job names the scrape); the others are sorted, so the key does not depend
    on the order Prometheus lists them in.
    """
    rest = {k: v for k, v in labels.items() if k not in ("__name__", "instance", "job")}
    key = f"{host_key(labels.get('instance', ''))}/{labels.get('__name__') or 'value'}"
    if rest:
        key += "/" + ",".join(f"{k}={rest[k]}" for k in sorted(rest))
    return key


def unit_of(name: str) -> str:
    """Return the unit a metric name says it has (``node_hwmon_temp_celsius`` is in °C)."""
    base = name.removesuffix("_total")
    return next((unit for suffix, unit in UNITS if base.endswith(suffix)), "")


def up_query(query: str) -> str:
    """Return the query of the ``up`` series of the targets behind ``query``: its job matchers
    applied to ``up``, or every target's ``up`` when it names no job."""
    matchers = [f"job{op}{value}" for op, value in _JOB_MATCHER.findall(query)]
    return f"up{{{','.join(matchers)}}}" if matchers else "up"


def parse_answer(fetched: Fetched) -> Answer:
    """Read one answer of ``/api/v1/query``: its vector, or Prometheus' own error text."""
    if fetched.error is not None:
        return Answer([], fetched.error)
    try:
        data = json.loads(fetched.body)
    except (ValueError, UnicodeDecodeError):
        return Answer([], f"not a Prometheus API answer (HTTP {fetched.code}, not JSON)")
    if not isinstance(data, dict):
        return Answer([], f"not a Prometheus API answer (HTTP {fetched.code})")
    if data.get("status") != "success":
        why = str(data.get("error") or f"HTTP {fetched.code}")
        return Answer([], f"{data.get('errorType') or 'error'}: {why}")
    result = data.get("data")
    if not isinstance(result, dict) or not isinstance(result.get("result"), list):
        return Answer([], "not a Prometheus API answer (no data.result)")
    if result.get("resultType") != "vector":
        return Answer([], f"the query gives a {result.get('resultType')}, not an instant vector")
    return Answer([s for s in result["result"] if _is_sample(s)])


def _is_sample(s: object) -> bool:
    return (
        isinstance(s, dict)
        and isinstance(s.get("metric"), dict)
        and isinstance(s.get("value"), list)
        and len(s["value"]) == 2
    )


def _number(sample: dict[str, Any]) -> tuple[float, float] | None:
    """Return (time, value) of a sample, or None when Prometheus sent something else."""
    try:
        return float(sample["value"][0]), float(sample["value"][1])
    except (TypeError, ValueError):
        return None


class PrometheusCollector:
    """Reads the latest point of every series a PromQL selector names, and ``up`` of its targets.

    Each series becomes a reading ``hosts/<instance>/<name>/<labels>``; each target a reading
    ``hosts/<instance>/up``, 1 (up) or 0 (down, critical), so a host Prometheus cannot scrape is
    shown as down rather than as its last values. At most ``max_series`` series are read; the
    batch says when that cuts some off.
    """

    def __init__(
        self,
        name: str,
        url: str,
        query: str,
        interval: float = 15.0,
        timeout: float = 5.0,
        max_series: int = MAX_SERIES,
        backfill: float | None = None,
    ) -> None:
        """Args:
        name: the source's name.
        url: the Prometheus server, e.g. ``http://127.0.0.1:9090``.
        query: a PromQL selector, e.g. ``{job="node"}``.
        interval: seconds between polls.
        timeout: seconds both queries of a poll may take together.
        max_series: series read at most per poll.
        backfill: seconds of past ``backfill`` reads at start (None: ``BACKFILL_POINTS``
            intervals; 0: none).
        """
        self.name = f"prometheus:{name}"
        self.url = url.rstrip("/")
        self.query, self.up = query, up_query(query)
        self.interval, self.timeout, self.max_series = interval, timeout, max_series
        self.backfill_span = BACKFILL_POINTS * interval if backfill is None else backfill
        self.backfill_total = MOST_TOTAL
        """Points the backfill reads at most over all series."""
        self._hosts: set[str] = set()
        """Instances whose ``up`` was read: when Prometheus cannot be asked, they are unknown."""
        self._units: dict[str, str] = {}
        """Key to unit of the series the last good poll read."""
        self._polled = threading.Event()
        """Set once a poll has read the series (the backfill waits for it)."""

    def poll(self) -> Batch:
        """Ask Prometheus for the selector's series and its targets' ``up``, once."""
        series, up = run_async(self._ask)
        errors: list[str] = []
        readings: list[Reading] = []
        gone: tuple[str, ...] = ()
        if series.error is not None:
            errors.append(redact(f"query {self.query}: {series.error}")[:300])
        else:
            readings, cut = self._series(series.series)
            # A series Prometheus no longer has (its target is down, its scrapes marked it
            # stale) is gone, not frozen at its last value.
            gone = tuple(sorted(set(self._units) - {r.key for r in readings}))
            self._units = {r.key: r.unit for r in readings}
            self._polled.set()
            if cut:
                errors.append(
                    f"{cut + self.max_series:,} series, read the first {self.max_series:,} "
                    f"(raise max_series or narrow the query)"
                )
        if up.error is not None and series.error is None:
            errors.append(redact(f"query {self.up}: {up.error}")[:300])
        if up.error is not None:
            readings.extend(self._unknown(time.time()))
        else:
            readings.extend(self._up(up.series))
        return Batch(self.name, tuple(readings), tuple(errors), gone=gone)

    def backfill(self) -> Past:
        """Read the recent past of the series the first poll read, with one ``query_range``
        (step: the interval), bounded per series and in all; called once, on a thread of its
        own, while the live polls go on."""
        if self.backfill_span <= 0:
            return Past(self.name)
        if not self._polled.wait(2 * self.timeout + 1.0):
            return Past(self.name, error="query_range: skipped, the first poll read no series")
        units = dict(self._units)
        win = window(
            time.time(), self.backfill_span, self.interval, len(units), self.backfill_total
        )
        return read_past(self.name, self.url, self.query, units, win, self.timeout, series_key)

    async def _ask(self) -> tuple[Answer, Answer]:
        endpoint = f"{self.url}/api/v1/query"
        async with new_client(self.timeout) as client:
            answers = await asyncio.gather(
                fetch(client, "GET", endpoint, self.timeout, {"query": self.query}),
                fetch(client, "GET", endpoint, self.timeout, {"query": self.up}),
            )
        return parse_answer(answers[0]), parse_answer(answers[1])

    def _series(self, samples: list[dict[str, Any]]) -> tuple[list[Reading], int]:
        """Return the readings of the selector's series (``up`` is read on its own) and how
        many series the cap left out; the cut keeps the same series from poll to poll."""
        keyed = sorted(
            ((series_key(s["metric"]), s) for s in samples if s["metric"].get("__name__") != "up"),
            key=lambda pair: pair[0],
        )
        cut = max(0, len(keyed) - self.max_series)
        out = []
        for key, s in keyed[: self.max_series]:
            point = _number(s)
            if point is not None:
                name = str(s["metric"].get("__name__", ""))
                out.append(Reading(key, point[1], unit_of(name), point[0]))
        return out, cut

    def _unknown(self, now: float) -> list[Reading]:
        # Prometheus not answering says nothing of its targets: their last "up" would be stale.
        return [
            Reading(f"{host}/up", None, "", now, status=Status.UNKNOWN, text="unknown")
            for host in sorted(self._hosts)
        ]

    def _up(self, samples: list[dict[str, Any]]) -> list[Reading]:
        out = []
        for s in samples:
            point = _number(s)
            if point is None:
                continue
            up = point[1] >= 1
            host = host_key(str(s["metric"].get("instance", "")))
            self._hosts.add(host)
            out.append(
                Reading(
                    f"{host}/up",
                    point[1],
                    "",
                    point[0],
                    status=Status.OK if up else Status.CRITICAL,
                    text="up" if up else "down",
                )
            )
        return out
