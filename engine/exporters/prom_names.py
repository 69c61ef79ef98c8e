"""Provides the Prometheus names of gongwatch's metrics: node_exporter's for hardware sensors,
smartctl_exporter's for disks, names close to node_exporter's for the system, and
``gongwatch_*`` for the rest, built as metric families from one snapshot."""

from __future__ import annotations

import math
from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily, Metric

from collectors.base import Reading
from engine.engine import MetricState, Snapshot

HWMON = {
    "°C": ("temp", "celsius"),
    "RPM": ("fan", "rpm"),
    "V": ("in", "volts"),
    "W": ("power", "watt"),
    "A": ("curr", "amps"),
    "J": ("energy", "joule_total"),
}
"""Reading unit to node_exporter's hwmon sensor type and unit suffix."""
LIMITS = (("low", "min"), ("high", "max"), ("crit", "crit"))
"""Reading limit to node_exporter's property name (``node_hwmon_temp_crit_celsius``)."""
SYSTEM = {
    "system/load/1m": ("node_load1", "1m load average (node_exporter's name)."),
    "system/load/5m": ("node_load5", "5m load average (node_exporter's name)."),
    "system/load/15m": ("node_load15", "15m load average (node_exporter's name)."),
    "system/memory/available": (
        "node_memory_MemAvailable_bytes",
        "Memory available for new work in bytes (node_exporter's name).",
    ),
    "system/memory/used": ("gongwatch_memory_used_percent", "Memory in use, percent."),
    "system/swap/used": ("gongwatch_swap_used_percent", "Swap in use, percent."),
    "system/uptime": ("gongwatch_uptime_seconds", "Seconds since the machine booted."),
}
"""System metric keys with a family of their own."""
NVME = {"critical_warning", "media_errors", "percentage_used", "available_spare"}
"""NVMe health fields smartctl_exporter exports as ``smartctl_device_<field>``."""
HEALTHY = {"PASSED": 1.0, "WARNING": 1.0, "FAILED": 0.0}
"""SMART assessment to smartctl_exporter's ``smart_status`` (1 when the self-assessment passed)."""


class Families:
    """Gauge families by name, filled one sample at a time."""

    def __init__(self) -> None:
        self.families: dict[str, GaugeMetricFamily] = {}

    def add(self, name: str, doc: str, labels: dict[str, str], value: float) -> None:
        """Add one sample to the family ``name`` (created with ``doc`` on first use)."""
        fam = self.families.get(name)
        if fam is None:
            fam = self.families[name] = GaugeMetricFamily(name, doc, labels=list(labels))
        fam.add_metric(list(labels.values()), value)

    def __iter__(self) -> Iterable[Metric]:  # type: ignore[override]
        return iter(self.families.values())


def snapshot_families(snap: Snapshot) -> list[Metric]:
    """Return the families of every metric in a snapshot (no I/O, only its readings)."""
    out = Families()
    for st in snap.metrics.values():
        add_metric(out, st)
    for name, src in snap.sources.items():
        up = 0.0 if src.unavailable or src.errors else 1.0
        out.add(
            "gongwatch_source_up",
            "1 when the source's last poll had no problem.",
            {"source": name},
            up,
        )
    return list(out.families.values())


def add_metric(out: Families, st: MetricState) -> None:
    """Add one metric's value (under its family) and its anomaly verdict."""
    r, v = st.reading, st.verdict
    out.add(
        "gongwatch_anomaly_score",
        "Anomaly score of the metric, 0 to 1.",
        {"metric": r.key},
        v.score,
    )
    out.add(
        "gongwatch_anomalous",
        "1 while the metric is anomalous; severity says how.",
        {"metric": r.key, "severity": v.severity if v.anomalous else "none"},
        1.0 if v.anomalous else 0.0,
    )
    parts = r.key.split("/")
    if parts[0] == "disk" and len(parts) >= 3 and _disk(out, parts[1], "/".join(parts[2:]), r):
        return
    if r.value is None or not math.isfinite(r.value):
        if parts[0] == "remote" and len(parts) == 4 and parts[3] == "status":
            up = 0.0 if (r.text or "").lower() == "down" else 1.0
            out.add(
                "gongwatch_remote_up",
                "1 when the service answers from the location.",
                {"service": parts[1], "location": parts[2]},
                up,
            )
        return
    if parts[0] == "sensors" and len(parts) >= 3 and r.unit in HWMON:
        _hwmon(out, parts[1], "/".join(parts[2:]), r)
    elif parts[0] == "remote" and len(parts) == 4 and parts[3] == "time":
        out.add(
            "gongwatch_remote_response_seconds",
            "Response time of a service, seconds.",
            {"service": parts[1], "location": parts[2]},
            r.value,
        )
    elif r.key in SYSTEM:
        name, doc = SYSTEM[r.key]
        out.add(name, doc, {}, r.value)
    elif parts[:2] == ["system", "cpu"] and len(parts) == 3:
        out.add(
            "gongwatch_cpu_usage_percent",
            "CPU busy, percent (cpu is a core or total).",
            {"cpu": parts[2]},
            r.value,
        )
    else:
        out.add(
            "gongwatch_metric",
            "Any other numeric metric, by its gongwatch key and unit.",
            {"key": r.key, "unit": r.unit},
            r.value,
        )


def _hwmon(out: Families, chip: str, sensor: str, r: Reading) -> None:
    kind, unit = HWMON[r.unit]
    labels = {"chip": chip, "sensor": sensor}
    assert r.value is not None
    out.add(
        f"node_hwmon_{kind}_{unit}", f"Hardware monitor {kind} sensor ({unit}).", labels, r.value
    )
    for attr, prop in LIMITS:
        limit = getattr(r, attr)
        if limit is not None and math.isfinite(limit):
            out.add(
                f"node_hwmon_{kind}_{prop}_{unit}",
                f"Hardware monitor {kind} sensor {prop} limit ({unit}).",
                labels,
                limit,
            )


def _disk(out: Families, device: str, what: str, r: Reading) -> bool:
    """Add a disk reading under smartctl_exporter's name; False when it has none."""
    dev = {"device": device}
    value = r.value if r.value is not None and math.isfinite(r.value) else None
    if what == "health":
        word = (r.text or "").split(":")[0].strip().upper()
        if word in HEALTHY:
            out.add(
                "smartctl_device_smart_status",
                "1 when the SMART self-assessment passed.",
                dev,
                HEALTHY[word],
            )
        return True
    if value is None:
        return True
    if what == "temperature":
        out.add(
            "smartctl_device_temperature",
            "Disk temperature, celsius.",
            dev | {"temperature_type": "current"},
            value,
        )
    elif what == "power_on_hours":
        out.add("smartctl_device_power_on_seconds", "Power-on time, seconds.", dev, value * 3600)
    elif what == "capacity":
        out.add("smartctl_device_capacity_bytes", "Disk capacity, bytes.", dev, value)
    elif what.startswith("smart/") and what[6:] in NVME:
        out.add(f"smartctl_device_{what[6:]}", f"NVMe {what[6:].replace('_', ' ')}.", dev, value)
    elif what.startswith("smart/") and what[6:].split("_", 1)[0].isdigit() and "_" in what[6:]:
        num, name = what[6:].split("_", 1)
        labels = dev | {"attribute_id": num, "attribute_name": name, "attribute_value_type": "raw"}
        out.add("smartctl_device_attribute", "SMART attribute (the raw value).", labels, value)
    else:
        return False
    return True
