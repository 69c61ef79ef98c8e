"""Tests the Server Density-style collector against JSON that is not what it should be:
NaN, infinities, huge numbers and wrong types in real-shaped answers, served by the real test
server; one bad location costs that location only, never the poll."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collectors.base import Batch, Status
from collectors.remote import State
from collectors.serverdensity import ServerDensityCollector
from collectors.serverdensity_json import ApiError, Service, judge, parse_services
from tests.mutations import json_ops, mutate_json
from tests.remote_server import LAST, NODES, SERVICES, TOKEN, RemoteServer

ROUTES: dict[str, tuple[str, Any]] = {
    "inventory": ("/inventory/services", SERVICES),
    "web": ("/service-monitor/last/s-web", LAST["s-web"]),
    "shop": ("/service-monitor/last/s-shop", LAST["s-shop"]),
    "nodes": ("/service-monitor/nodes", NODES),
}
"""What the fuzz mutates: each answer of the API, as the real server gives it."""

FUZZ = settings(
    max_examples=120,
    deadline=2_000,  # ms; a poll against the local server takes ~30 ms
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def server() -> Iterator[RemoteServer]:
    with RemoteServer() as srv:
        yield srv


def poll(server: RemoteServer) -> Batch:
    collector = ServerDensityCollector(
        "sd", server.url, TOKEN, timeout=2.0, services=("web", "s-shop")
    )
    try:
        return collector.poll()
    finally:
        collector.close()


def service_readings(batch: Batch, service: str) -> dict[str, tuple[object, ...]]:
    return {
        r.key: (r.value, r.text, r.status)
        for r in batch.readings
        if r.key.startswith(f"remote/{service}/")
    }


def assert_clean(batch: Batch) -> None:
    """Nothing escaped; every reading is a finite number or has no number."""
    assert not any("internal error" in e for e in batch.errors), batch.errors
    for r in batch.readings:
        assert r.value is None or math.isfinite(r.value), r
        assert r.status == Status.UNKNOWN or not r.key.endswith("/error") or r.text


@pytest.mark.parametrize(
    ("route", "row", "why"),
    [
        ("web", {"code": float("nan")}, "HTTP code nan is not a status code"),
        ("web", {"code": float("inf")}, "HTTP code inf is not a status code"),
        ("web", {"time": 10**400}, "time 100000000000000000000... is not a number of seconds"),
        ("web", {"time": float("-inf")}, "time -inf is not a number of seconds"),
        ("shop", {"status": None}, "status None is not text"),
    ],
)
def test_a_bad_value_makes_its_location_unknown_and_nothing_else(
    server: RemoteServer, route: str, row: dict[str, Any], why: str
) -> None:
    path, rows = ROUTES[route]
    good = poll(server)
    server.bodies[path] = json.dumps([{**rows[0], **row}, *rows[1:]]).encode()
    try:
        batch = poll(server)
    finally:
        del server.bodies[path]
    assert batch.errors == ()
    location = {"web": "remote/web/sydney", "shop": "remote/shop-front/sydney"}[route]
    got = {r.key: r for r in batch.readings}
    assert got[f"{location}/status"].text == "unknown"
    assert got[f"{location}/error"].text == why
    other = "shop-front" if route == "web" else "web"
    assert service_readings(batch, other) == service_readings(good, other)
    mine = service_readings(batch, location.split("/")[1])
    assert len([k for k in mine if k.endswith("/status")]) == len(rows)


def test_a_huge_slow_threshold_falls_back_to_the_default_and_says_so(
    server: RemoteServer,
) -> None:
    server.bodies["/inventory/services"] = json.dumps(
        [{**SERVICES[0], "slowThreshold": 10**400}, SERVICES[1]]
    ).encode()
    try:
        batch = poll(server)
    finally:
        del server.bodies["/inventory/services"]
    assert batch.errors == (
        "service 'web': slowThreshold 100000000000000000000... is not a positive number of "
        "milliseconds; using 400 ms",
    )
    assert {r.key: r.high for r in batch.readings}["remote/web/sydney/time"] == 0.4


@FUZZ
@given(target=st.sampled_from(sorted(ROUTES)), ops=json_ops())
def test_fuzz_mutated_answers_through_the_server(
    server: RemoteServer, target: str, ops: list[tuple[float, str, int]]
) -> None:
    path, payload = ROUTES[target]
    server.bodies[path] = json.dumps(mutate_json(payload, ops)).encode()
    try:
        batch = poll(server)
    finally:
        del server.bodies[path]
    assert_clean(batch)
    if target in ("web", "shop"):
        # The other service's answer was untouched: it reads exactly as without the fuzz.
        other = "shop-front" if target == "web" else "web"
        statuses = [k for k in service_readings(batch, other) if k.endswith("/status")]
        assert len(statuses) == len(ROUTES["shop" if target == "web" else "web"][1])
        assert all(s not in ("unknown",) for s in _texts(batch, statuses))
        # The mutated service is listed, never left out.
        mine = "web" if target == "web" else "shop-front"
        assert any(k.endswith("/status") for k in service_readings(batch, mine))


def _texts(batch: Batch, keys: list[str]) -> list[str | None]:
    got = {r.key: r.text for r in batch.readings}
    return [got[k] for k in keys]


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**500), max_value=10**500)
    | st.floats()
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@settings(max_examples=150, deadline=500, database=None)
@given(data=JSON, row=st.dictionaries(st.sampled_from(["status", "code", "time"]), JSON))
def test_fuzz_the_parsers_directly(data: Any, row: dict[str, Any]) -> None:
    try:
        services, _ = parse_services(data)
    except ApiError:
        services = []
    for s in services:
        assert math.isfinite(s.slow) and s.slow > 0
    result = judge(Service("s", "s", "s", 0.4), "here", "Here", row)
    assert result.time is None or math.isfinite(result.time)
    assert result.state is not State.UNKNOWN or result.error
