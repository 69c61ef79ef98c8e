"""Tests the Server Density-style collector against a real server on 127.0.0.1."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from collectors.base import Batch, Reading, Status
from collectors.serverdensity import ServerDensityCollector
from tests.clock import ManualClock
from tests.remote_server import TOKEN, RemoteServer


@pytest.fixture
def server() -> Iterator[RemoteServer]:
    with RemoteServer() as srv:
        yield srv


def sd(server: RemoteServer, **kw: object) -> ServerDensityCollector:
    kw.setdefault("token", TOKEN)
    kw.setdefault("timeout", 0.5)
    kw.setdefault("interval", 5.0)
    return ServerDensityCollector("sd", server.url, **kw)  # type: ignore[arg-type]


def by_key(batch: Batch) -> dict[str, Reading]:
    return {r.key: r for r in batch.readings}


def states(batch: Batch) -> dict[str, str | None]:
    return {r.key.rsplit("/", 1)[0]: r.text for r in batch.readings if r.key.endswith("/status")}


def test_up_slow_and_down_locations_named_through_nodes(server: RemoteServer) -> None:
    batch = sd(server, services=("web",)).poll()
    assert batch.source == "remote:sd" and batch.errors == ()
    assert states(batch) == {
        "remote/web/sydney": "up",
        "remote/web/london": "slow",
        "remote/web/new-york": "down",
    }
    got = by_key(batch)
    assert got["remote/web/london/status"].status == Status.WARNING
    assert got["remote/web/new-york/status"].status == Status.CRITICAL
    assert got["remote/web/sydney/time"].value == 0.12
    assert got["remote/web/sydney/time"].high == 0.5  # slowThreshold is in ms
    assert got["remote/web/sydney/status"].label == "Sydney, Australia"
    assert got["remote/web/new-york/error"].text == "down from New York, USA (HTTP 503)"


def test_service_names_and_ids_select(server: RemoteServer) -> None:
    batch = sd(server, services=("s-shop", "nope")).poll()
    assert set(states(batch)) == {"remote/shop-front/sydney", "remote/shop-front/frankfurt"}
    assert batch.errors == ("no service named 'nope' in the inventory",)


def test_malformed_json_and_a_hung_route_cost_no_more_than_the_timeout(
    server: RemoteServer,
) -> None:
    start = time.perf_counter()
    batch = sd(server, timeout=0.4).poll()
    took = time.perf_counter() - start
    assert took < 1.0, f"a poll with a hung route took {took:.2f} s"
    assert set(batch.errors) == {
        "service 'broken': malformed JSON",
        "service 'stuck': no answer within 0.4 s",
    }
    assert states(batch)["remote/web/sydney"] == "up"  # the others came through
    assert states(batch)["remote/shop-front/frankfurt"] == "up"


def test_a_wrong_token_is_one_clear_error(server: RemoteServer) -> None:
    batch = sd(server, token="wrong").poll()
    assert batch.errors == ("services: HTTP 401: the API refused the token",)
    assert batch.readings == () and batch.unavailable is None


def test_no_token_makes_the_source_unavailable(server: RemoteServer) -> None:
    batch = sd(server, token=None, token_hint="set $SD_TOKEN").poll()
    assert batch.unavailable == "no API token: set $SD_TOKEN"
    assert server.hits.total() == 0


def test_inventory_failure_marks_known_locations_unknown(server: RemoteServer) -> None:
    coll = sd(server, services=("web",))
    coll.poll()
    server.override["/inventory/services"] = "malformed"
    batch = coll.poll()
    assert batch.errors == ("services: malformed JSON",)
    assert set(states(batch).values()) == {"unknown"}
    assert by_key(batch)["remote/web/sydney/status"].status == Status.UNKNOWN


def test_unexpected_json_shape_is_an_error_not_a_crash(server: RemoteServer) -> None:
    server.override["/inventory/services"] = '{"services": []}'
    assert sd(server).poll().errors == ("services: unexpected JSON (not a list)",)
    server.override["/inventory/services"] = '[{"_id": "s-web", "name": "web"}]'
    server.override["/service-monitor/last/s-web"] = '{"oops": 1}'
    assert sd(server).poll().errors == ("service 'web': unexpected JSON (not a list of results)",)


def test_nodes_failing_falls_back_to_node_ids(server: RemoteServer) -> None:
    server.override["/service-monitor/nodes"] = "500"
    batch = sd(server, services=("web",)).poll()
    assert batch.errors == ("nodes: HTTP 500",)
    assert states(batch)["remote/web/syd"] == "up"


def test_nodes_are_cached(server: RemoteServer) -> None:
    coll = sd(server, services=("web",))
    for _ in range(3):
        coll.poll()
    assert server.hits["/service-monitor/nodes"] == 1
    assert server.hits["/service-monitor/last/s-web"] == 3


def test_breaker_on_a_route_and_its_recovery(server: RemoteServer) -> None:
    clock = ManualClock()
    coll = sd(server, services=("web",), clock=clock, interval=5.0)  # open 10 s, then 20 s ...
    route = "/service-monitor/last/s-web"
    server.override[route] = "500"
    errors = [coll.poll().errors for _ in range(4)]
    assert errors[0] == ("service 'web': HTTP 500",)
    assert errors[2] == errors[3] == ("service 'web': HTTP 500 (backing off)",)
    assert server.hits[route] == 3  # the fourth poll did not ask
    assert server.hits["/inventory/services"] == 4  # the other routes still are
    del server.override[route]
    clock.now += 10.0
    healed = coll.poll()
    assert healed.errors == ()
    assert states(healed)["remote/web/sydney"] == "up"
    assert not coll.breakers["service-monitor/last/s-web"].is_open
