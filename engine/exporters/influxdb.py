"""Provides the InfluxDB exporter: readings as v1 line protocol posted to ``/write?db=``, one
measurement per metric family (``sensors``, ``disk``, ``remote``, ``system``, ``statsd``) with
the key's parts as tags, and the value and anomaly score as fields."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import httpx

from collectors.base import Batch
from engine.engine import MetricState
from engine.exporters.config import InfluxConfig
from engine.exporters.queue import PushExporter, Report, SendError

TAGS = {
    "sensors": ("chip", "sensor"),
    "disk": ("device", "attribute"),
    "remote": ("service", "location", "check"),
    "system": ("subsystem", "metric"),
    "statsd": ("metric", "stat"),
}
"""Measurement to the tag names of the key's parts after the first (the last takes the rest);
names that are InfluxQL keywords (``name``, ``group``) are avoided so queries need no quotes."""
_TAG_ESCAPE = re.compile(r"([,= \\])")


def escape(text: str) -> str:
    """Escape a measurement, tag key or tag value for the line protocol."""
    return _TAG_ESCAPE.sub(r"\\\1", text.replace("\n", " "))


def line(st: MetricState) -> str | None:
    """Return the line of one metric state, None when it has no finite number."""
    r = st.reading
    if r.value is None or not math.isfinite(r.value):
        return None
    first, *rest = r.key.split("/")
    names = TAGS.get(first, ("path",))
    if len(rest) > len(names):
        rest = [*rest[: len(names) - 1], "/".join(rest[len(names) - 1 :])]
    tags = {n: v for n, v in zip(names, rest, strict=False) if v}
    if r.unit:
        tags["unit"] = r.unit
    head = ",".join([escape(first or "gongwatch")] + [f"{k}={escape(v)}" for k, v in tags.items()])
    score = st.verdict.score if math.isfinite(st.verdict.score) else 0.0
    fields = f"value={r.value!r},anomaly_score={score!r},anomalous={st.verdict.anomalous!s}"
    return f"{head} {fields} {round(r.time * 1000)}"


class InfluxExporter(PushExporter[str]):
    """Posts readings to an InfluxDB 1.x server, creating the database when it is missing."""

    name = "influxdb"

    def __init__(self, config: InfluxConfig, report: Report) -> None:
        """Args:
        config: the server, the database and the timeout.
        report: tells the engine's events of a lost or regained server.
        """
        super().__init__(report, config.timeout)
        self.config = config
        self.target = f"{config.url} (database {config.database})"
        self.rejected = 0
        """Points the server refused as malformed (not retried)."""
        self._client: httpx.Client | None = None

    def encode(self, batch: Batch, changed: list[MetricState]) -> list[str]:
        """Return one line per finite numeric reading."""
        return [text for st in changed if (text := line(st)) is not None]

    def send(self, items: Sequence[str]) -> None:
        """Post the lines; a missing database is created once and the post retried."""
        if self._client is None:
            self._client = httpx.Client(base_url=self.config.url, timeout=self.timeout)
        body = "\n".join(items).encode()
        params = {"db": self.config.database, "precision": "ms"}
        try:
            resp = self._client.post("/write", params=params, content=body)
            if resp.status_code == 404 and "database not found" in resp.text:
                self._create_database()
                resp = self._client.post("/write", params=params, content=body)
        except httpx.HTTPError as exc:
            raise SendError(str(exc) or type(exc).__name__) from None
        if resp.status_code in (400, 413, 422):
            # The points themselves are wrong: sending them again cannot help.
            self.rejected += len(items)
            self.report(self.name, "error", f"server refused points: {resp.text.strip()[:200]}")
        elif resp.status_code >= 300:
            raise SendError(f"HTTP {resp.status_code}: {resp.text.strip()[:200]}")

    def _create_database(self) -> None:
        assert self._client is not None
        query = f'CREATE DATABASE "{self.config.database}"'
        resp = self._client.post("/query", params={"q": query})
        if resp.status_code >= 300:
            raise SendError(f"cannot create database: HTTP {resp.status_code}")
        self.report(self.name, "info", f"created database {self.config.database!r}")

    def disconnect(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            self._client.close()
            self._client = None
