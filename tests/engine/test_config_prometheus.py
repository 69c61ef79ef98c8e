"""Tests ``[[sources.prometheus]]``: defaults, errors that name the key and line, the collectors."""

from __future__ import annotations

import pytest

from collectors.prometheus import PrometheusCollector
from engine.config import ConfigError
from engine.config_reader import parse
from engine.sources import build_collectors

DESIGN_EXAMPLE = """
[[sources.prometheus]]
name = "lab"
url = "http://127.0.0.1:9090"
query = '{job="node"}'
interval = 15.0
"""


def test_the_design_example_parses_with_defaults() -> None:
    (source,) = parse(DESIGN_EXAMPLE).prometheus_sources
    assert (source.name, source.url, source.query) == (
        "lab",
        "http://127.0.0.1:9090",
        '{job="node"}',
    )
    assert (source.interval, source.timeout, source.max_series) == (15.0, 5.0, 2_000)
    bare = parse(
        "[[sources.prometheus]]\nname='a'\nurl='http://x/'\nquery='up'"
    ).prometheus_sources[0]
    assert bare.interval == 15.0 and bare.url == "http://x"


def test_each_source_becomes_a_collector() -> None:
    text = DESIGN_EXAMPLE + "max_series = 50\ntimeout = 2.0\n"
    text += "[[sources.prometheus]]\nname='edge'\nurl='http://10.0.0.2:9090'\nquery='node_load1'\n"
    collectors = [c for c in build_collectors(parse(text)) if isinstance(c, PrometheusCollector)]
    assert [c.name for c in collectors] == ["prometheus:lab", "prometheus:edge"]
    lab, edge = collectors
    assert (lab.interval, lab.timeout, lab.max_series, lab.up) == (15.0, 2.0, 50, 'up{job="node"}')
    assert (edge.query, edge.up, edge.interval) == ("node_load1", "up", 15.0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[[sources.prometheus]]\nname='a'\nurl='http://x'",
            "sources.prometheus[0].query: required",
        ),
        ("[[sources.prometheus]]\nname='a'\nquery='up'", "sources.prometheus[0].url: required"),
        (
            "[[sources.prometheus]]\nname='a'\nurl='x:9090'\nquery='up'",
            "f.toml:3: sources.prometheus[0].url: must start with http",
        ),
        (
            "[[sources.prometheus]]\nname='a'\nurl='http://x'\nquery='up'\nmax_series=0",
            "f.toml:5: sources.prometheus[0].max_series: must be between 1 and 100,000 series",
        ),
        (
            "[[sources.prometheus]]\nname='a'\nurl='http://x'\nquery='up'\ninterval=0",
            "sources.prometheus[0].interval: must be between 0.1 and 86,400 seconds, got 0",
        ),
        (
            "[[sources.prometheus]]\nname='a'\nurl='http://x'\nquery='up'\nstep=1",
            "f.toml:5: sources.prometheus[0].step: unknown key",
        ),
        ("[sources.graphite]\nurl='x'", "sources.graphite: unknown key"),
        (
            "[[sources.prometheus]]\nname='a'\nurl='http://x'\nquery='up'\n"
            "[[sources.prometheus]]\nname='a'\nurl='http://y'\nquery='up'",
            "sources.prometheus[1].name: duplicate name 'a'",
        ),
    ],
)
def test_errors_name_the_key_and_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse(text, "f.toml")
    assert message in str(err.value)


def test_backfill_is_a_duration_defaulting_to_the_detectors_warm_up() -> None:
    def span(extra: str) -> float:
        (c,) = [c for c in build_collectors(parse(DESIGN_EXAMPLE + extra))
                if isinstance(c, PrometheusCollector)]  # fmt: skip
        return c.backfill_span

    assert parse(DESIGN_EXAMPLE).prometheus_sources[0].backfill is None
    assert span("") == 300 * 15.0
    assert span('backfill = "10m"\n') == 600.0
    assert span('backfill = "0s"\n') == 0.0
    with pytest.raises(ConfigError, match=r"sources\.prometheus\[0\]\.backfill"):
        parse(DESIGN_EXAMPLE + 'backfill = "soon"\n')
