"""Provides the list of collectors a configuration asks for."""

from __future__ import annotations

from collectors.base import Collector
from collectors.sensors import SensorsCollector
from collectors.smart import SmartCollector
from collectors.synthetic import SyntheticCollector
from collectors.system import SystemCollector
from engine.config import Config

# The remote collectors bring httpx (and, through it, a few MiB of modules a monitor with no
# remote source never needs): they are imported only when the configuration asks for one.


def build_collectors(config: Config) -> list[Collector]:
    """Return the enabled collectors, configured. Each reports its own unavailability."""
    out: list[Collector] = []
    system = config.collector("system")
    if system.enabled:
        out.append(SystemCollector(interval=system.interval))
    sensors = config.collector("sensors")
    if sensors.enabled:
        out.append(
            SensorsCollector(
                interval=sensors.interval, trust_unset_alarms=sensors.trust_unset_alarms
            )
        )
    smart = config.collector("smart")
    if smart.enabled:
        out.append(SmartCollector(interval=smart.interval, smartctl=smart.smartctl))
    out.extend(remote_collectors(config))
    out.extend(listener_collectors(config))
    if config.synthetic is not None:
        syn = config.synthetic
        out.append(SyntheticCollector(syn.series, syn.interval, critical_after=syn.critical_after))
    out.extend(prometheus_collectors(config))
    return out


def listener_collectors(config: Config) -> list[Collector]:
    """Return the listeners the configuration asks for (``[statsd]``)."""
    statsd = config.integrations.statsd
    if statsd is None:
        return []
    from collectors.statsd import StatsdCollector

    return [StatsdCollector(statsd.listen.host, statsd.listen.port, flush=statsd.flush)]


def prometheus_collectors(config: Config) -> list[Collector]:
    """Return one collector per ``[[sources.prometheus]]``."""
    if not config.prometheus_sources:
        return []
    from collectors.prometheus import PrometheusCollector

    return [
        PrometheusCollector(
            p.name,
            p.url,
            p.query,
            interval=p.interval,
            timeout=p.timeout,
            max_series=p.max_series,
            backfill=p.backfill,
        )
        for p in config.prometheus_sources
    ]


def remote_collectors(config: Config) -> list[Collector]:
    """Return one collector per ``[[remote.serverdensity]]`` and one per ``[[remote.http]]``."""
    out: list[Collector] = []
    if not (config.serverdensity or config.http):
        return out
    from collectors.http_check import HttpCheckCollector
    from collectors.serverdensity import ServerDensityCollector

    for sd in config.serverdensity:
        hint = f"set ${sd.token_env}" if sd.token_env else "set token or token_env"
        out.append(
            ServerDensityCollector(
                sd.name,
                sd.url,
                sd.resolve_token(),
                f"{hint} for [[remote.serverdensity]] {sd.name!r}",
                interval=sd.interval,
                timeout=sd.timeout,
                services=sd.services,
            )
        )
    for h in config.http:
        out.append(
            HttpCheckCollector(
                h.name,
                h.url,
                h.method,
                h.expect,
                timeout=h.timeout,
                slow=h.slow,
                interval=h.interval,
            )
        )
    return out


def config_warnings(config: Config) -> list[str]:
    """Return warnings about the configuration file itself (print them to stderr)."""
    holds_token = any(sd.token for sd in config.serverdensity)
    if not holds_token:
        return []
    from collectors.remote import config_warnings as remote_config_warnings

    source = None if config.source.startswith("<") else config.source
    return remote_config_warnings(source, holds_token)
