"""Tests that each service of a Server Density-style API is read on its own: one that never
answers holds back no other, is listed as unknown, and is not asked twice while it is out."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest

from collectors.base import Batch, Status
from collectors.serverdensity import PUBLISH_WAIT, ServerDensityCollector
from tests.remote_server import LAST, NODES, TOKEN, RemoteServer


@pytest.fixture
def server() -> Iterator[RemoteServer]:
    with RemoteServer() as srv:
        yield srv


def statuses(batch: Batch) -> dict[str, tuple[str | None, str | None]]:
    """``remote/<service>/<location>`` to (state, error)."""
    texts = {r.key: r.text for r in batch.readings}
    return {
        r.key.removesuffix("/status"): (r.text, texts.get(r.key.replace("/status", "/error")))
        for r in batch.readings
        if r.key.endswith("/status")
    }


def test_a_service_that_never_answers_holds_back_no_other(server: RemoteServer) -> None:
    # The timeout is far longer than the poll's wait: the fast services must not wait for it.
    collector = ServerDensityCollector("sd", server.url, TOKEN, timeout=30.0)
    try:
        start = time.perf_counter()
        batch = collector.poll()
        took = time.perf_counter() - start
    finally:
        collector.close()
    assert took < PUBLISH_WAIT + 1.0, f"the first poll took {took:.1f} s"
    got = statuses(batch)
    assert got["remote/web/sydney"] == ("up", None)
    assert got["remote/shop-front/frankfurt"] == ("up", None)
    # Services that could not be read are listed, by their check locations, with the reason.
    assert got["remote/stuck/london"] == ("unknown", "still waiting (timeout 30 s)")
    assert got["remote/broken/sydney"] == ("unknown", "service 'broken': malformed JSON")
    assert {k.split("/")[1] for k in got} == {"web", "shop-front", "broken", "stuck"}
    assert "service 'stuck': still waiting (timeout 30 s)" in batch.errors


def test_a_late_answer_comes_with_the_next_poll_and_nothing_is_asked_twice(
    server: RemoteServer,
) -> None:
    shop = "/service-monitor/last/s-shop"
    server.override[shop] = "delay:0.6:" + json.dumps(LAST["s-shop"])
    collector = ServerDensityCollector("sd", server.url, TOKEN, timeout=20.0, wait=0.3)
    try:
        start = time.perf_counter()
        first = collector.poll()
        took = time.perf_counter() - start
        assert statuses(first)["remote/shop-front/frankfurt"][0] == "unknown"
        assert statuses(first)["remote/web/sydney"] == ("up", None)
        time.sleep(0.8)  # the shop's answer arrives between the polls
        second = collector.poll()
    finally:
        collector.close()
    assert took < 1.0, f"the first poll took {took:.1f} s"
    got = statuses(second)
    assert got["remote/shop-front/frankfurt"] == ("up", None)
    assert got["remote/stuck/london"] == ("unknown", "still waiting (timeout 20 s)")
    assert server.hits["/service-monitor/last/s-hang"] == 1  # still out: not asked again
    status = {r.key: r.status for r in second.readings}
    assert status["remote/stuck/london/status"] == Status.UNKNOWN


def test_close_ends_the_requests_still_out_and_their_thread(server: RemoteServer) -> None:
    collector = ServerDensityCollector(
        "sd", server.url, TOKEN, timeout=30.0, wait=0.2, services=("stuck",)
    )
    collector.poll()
    assert any(t.name == "poll-remote" for t in threading.enumerate())
    collector.close()
    assert not any(t.name == "poll-remote" for t in threading.enumerate())


def test_the_poll_thread_ends_by_itself_when_nothing_is_out(server: RemoteServer) -> None:
    collector = ServerDensityCollector("sd", server.url, TOKEN, timeout=2.0, services=("web",))
    assert statuses(collector.poll())["remote/web/sydney"] == ("up", None)
    for _ in range(100):
        if not any(t.name == "poll-remote" for t in threading.enumerate()):
            break
        time.sleep(0.01)
    else:
        pytest.fail("the poll thread is still there with nothing in flight")


def test_the_first_poll_waits_for_the_node_names_so_keys_never_change(
    server: RemoteServer,
) -> None:
    server.override["/service-monitor/nodes"] = "delay:0.4:" + json.dumps(NODES)
    collector = ServerDensityCollector("sd", server.url, TOKEN, timeout=5.0, services=("web",))
    try:
        first = collector.poll()
    finally:
        collector.close()
    assert set(statuses(first)) == {"remote/web/sydney", "remote/web/london", "remote/web/new-york"}
