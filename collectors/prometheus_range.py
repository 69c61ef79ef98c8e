"""Provides the backfill of the Prometheus collector: the recent past of each series, read once
with ``/api/v1/query_range`` when the source starts, so its detectors begin warm."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

from collectors.remote import Fetched, fetch, redact
from collectors.remote_loop import new_client, run_async

BACKFILL_POINTS = 300
"""Points per series read by default: about what the ``auto`` detector needs before its error
scale has settled (its ``scale_memory``), so its first live verdicts are not a beginner's."""
MOST_POINTS = 2_000
"""Points per series at most, whatever span is configured (what a restart warms with)."""
MOST_TOTAL = 100_000
"""Points over all series at most: with many series, each gets fewer (the newest)."""


@dataclass(frozen=True, slots=True)
class Past:
    """The recent past of a source's series, oldest point first."""

    source: str
    """The collector's name."""
    series: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """Key to (time, value) points."""
    units: dict[str, str] = field(default_factory=dict)
    """Key to unit."""
    error: str | None = None
    """Why there is no past (one line); the source goes on with live points only."""

    @property
    def points(self) -> int:
        """How many points in all."""
        return sum(len(p) for p in self.series.values())


@dataclass(frozen=True, slots=True)
class Window:
    """What one range query asks for."""

    start: float
    end: float
    step: float
    points: int
    """Points kept per series at most."""


def window(now: float, span: float, step: float, series: int, total: int = MOST_TOTAL) -> Window:
    """Return the window to ask for: ``span`` seconds back at ``step``, cut to ``MOST_POINTS``
    per series and ``total`` over ``series`` series (the newest points are the ones kept)."""
    step = max(step, 1.0)
    points = min(int(span // step), MOST_POINTS, total // max(series, 1))
    return Window(now - points * step, now, step, max(points, 0))


def parse_matrix(fetched: Fetched) -> tuple[list[dict[str, Any]], str | None]:
    """Read one answer of ``/api/v1/query_range``: its series, or one line saying why not."""
    if fetched.error is not None:
        return [], fetched.error
    try:
        data = json.loads(fetched.body)
    except (ValueError, UnicodeDecodeError):
        return [], f"not a Prometheus API answer (HTTP {fetched.code}, not JSON)"
    if not isinstance(data, dict) or data.get("status") != "success":
        why = data.get("error") if isinstance(data, dict) else None
        kind = data.get("errorType") if isinstance(data, dict) else None
        return [], f"{kind or 'error'}: {why or f'HTTP {fetched.code}'}"
    result = data.get("data")
    if not isinstance(result, dict) or result.get("resultType") != "matrix":
        return [], "not a range answer (no matrix)"
    rows = result.get("result")
    if not isinstance(rows, list):
        return [], "not a range answer (no data.result)"
    ok = [r for r in rows if isinstance(r, dict) and isinstance(r.get("metric"), dict)
          and isinstance(r.get("values"), list)]  # fmt: skip
    return ok, None


def points_of(values: list[Any], keep: int) -> list[tuple[float, float]]:
    """Return the last ``keep`` finite (time, value) pairs of a range answer's ``values``."""
    out = []
    for pair in values:
        try:
            t, x = float(pair[0]), float(pair[1])
        except (TypeError, ValueError, IndexError):
            continue
        if math.isfinite(t) and math.isfinite(x):
            out.append((t, x))
    out.sort()
    return out[-keep:] if keep > 0 else []


def read_past(
    name: str, url: str, query: str, keys: dict[str, str], win: Window, timeout: float,
    key_of: Any,
) -> Past:  # fmt: skip
    """Ask Prometheus for the window of ``query``, keeping the series whose key is in ``keys``.

    Args:
        name: the collector's name.
        url: the Prometheus server.
        query: the PromQL selector.
        keys: key to unit of the series the live polls read (the same cut).
        win: the window.
        timeout: seconds the query may take.
        key_of: labels to key (``collectors.prometheus.series_key``).
    """
    if win.points <= 0 or not keys:
        return Past(name)
    params = {"query": query, "start": f"{win.start:.3f}", "end": f"{win.end:.3f}",
              "step": f"{win.step:g}"}  # fmt: skip

    async def ask() -> Fetched:
        async with new_client(timeout) as client:
            return await fetch(client, "GET", f"{url}/api/v1/query_range", timeout, params)

    started = time.monotonic()
    rows, error = parse_matrix(run_async(ask))
    if error is not None:
        took = time.monotonic() - started
        return Past(name, error=redact(f"query_range {query}: {error} ({took:.1f} s)")[:300])
    series = {}
    for row in rows:
        key = key_of(row["metric"])
        if key in keys:
            points = points_of(row["values"], win.points)
            if points:
                series[key] = points
    return Past(name, series, {k: keys[k] for k in series})
