"""Tests that HTTP checks and the Server Density-style source share one loop and one client
per kind, against a real server on 127.0.0.1, and that a hung check holds back no other."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import collectors.remote_loop as remote_loop
from collectors.http_check import HttpCheckCollector
from collectors.serverdensity import ServerDensityCollector
from engine import Engine
from engine.config import Config
from tests.remote_server import TOKEN, RemoteServer

CHECKS = 20


@pytest.fixture
def server() -> Iterator[RemoteServer]:
    with RemoteServer() as srv:
        yield srv


def wait_for(condition: Callable[[], bool], limit: float = 10.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.01)


def ours(threads: set[threading.Thread]) -> list[str]:
    """The names of the threads that poll (not the engine's observers, not the server's)."""
    return sorted(t.name for t in threads if t.name.startswith("poll-"))


def polls(engine: Engine, source: str) -> int:
    state = engine.snapshot().sources.get(source)
    return state.polls if state is not None else 0


def test_checks_poll_on_one_thread_and_leave_none_behind(server: RemoteServer) -> None:
    before = set(threading.enumerate())
    checks = [
        HttpCheckCollector(f"c{i}", server.url + "/check/ok", interval=0.1) for i in range(CHECKS)
    ]
    engine = Engine(Config(), checks)
    engine.start()
    try:
        wait_for(lambda: all(polls(engine, c.name) >= 3 for c in checks))
        names = ours(set(threading.enumerate()) - before)
    finally:
        engine.stop()
    # The loop, and one thread that hands results over (two while one waits): not one each.
    assert names[0] == remote_loop.LOOP_NAME
    assert 2 <= len(names) <= 1 + remote_loop.RESULTS_THREADS
    assert all(n.startswith(remote_loop.RESULTS_NAME) for n in names[1:])
    assert ours(set(threading.enumerate()) - before) == []
    assert server.hits["/check/ok"] >= 3 * CHECKS


def test_checks_and_the_api_share_one_client_per_kind(
    server: RemoteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[httpx.AsyncClient] = []
    new_client = remote_loop.new_client

    def counted(timeout: float, keep_alive: int = 20) -> httpx.AsyncClient:
        made.append(client := new_client(timeout, keep_alive))
        return client

    monkeypatch.setattr(remote_loop, "new_client", counted)
    sd = ServerDensityCollector("sd", server.url, TOKEN, timeout=1.0, services=("web",))
    checks = [HttpCheckCollector(f"c{i}", server.url + "/check/ok", interval=0.1) for i in range(5)]
    engine = Engine(Config(), [sd, *checks])
    engine.start()
    try:
        wait_for(lambda: polls(engine, sd.name) >= 1)
        wait_for(lambda: all(polls(engine, c.name) >= 3 for c in checks))
    finally:
        engine.stop()
    assert "remote/web/sydney/status" in engine.snapshot().metrics
    assert len(made) == 2  # one for the checks, one for the API: not one per poll
    assert all(c.is_closed for c in made)  # closed with the loop, when the engine stopped


def test_a_hung_check_holds_back_no_other_poll(server: RemoteServer) -> None:
    hung = HttpCheckCollector("stuck", server.url + "/check/hang", timeout=5.0, interval=0.1)
    fine = [HttpCheckCollector(f"f{i}", server.url + "/check/ok", interval=0.05) for i in range(5)]
    engine = Engine(Config(), [hung, *fine])
    before = set(threading.enumerate())
    engine.start()
    try:
        # Each fine check polls again and again while the hung one waits for its answer.
        wait_for(lambda: all(polls(engine, c.name) >= 5 for c in fine), limit=4.0)
        assert server.hits["/check/hang"] == 1
        assert polls(engine, hung.name) == 0
    finally:
        engine.stop()  # the hung request is cancelled: no thread waits for it
        left = ours(set(threading.enumerate()) - before)
        server.release.set()
    assert left == []
    assert all(engine.snapshot().metrics[f"remote/f{i}/local/status"].reading.text == "up"
               for i in range(5))  # fmt: skip


def test_a_blocking_poll_uses_the_shared_loop_and_lets_it_end(server: RemoteServer) -> None:
    before = set(threading.enumerate())
    batch = HttpCheckCollector("blog", server.url + "/check/ok").poll()
    assert batch.errors == ()
    remote_loop.remote_loop().join()
    assert ours(set(threading.enumerate()) - before) == []


def test_no_check_carries_a_cookie_another_was_given(server: RemoteServer) -> None:
    """Checks share a client, but a cookie one site sets is never sent on: a client per
    request never kept one."""
    given = HttpCheckCollector("given", server.url + "/check/cookie")
    other = HttpCheckCollector("other", server.url + "/check/ok")

    async def both() -> None:
        await given.check()
        await other.check()
        await given.check()

    remote_loop.remote_loop().run(both())
    assert server.hits["/check/cookie"] == 2 and server.hits["/check/ok"] == 1
    assert server.cookies == {"/check/cookie": None, "/check/ok": None}


def test_stopping_while_answers_arrive_leaves_no_thread(server: RemoteServer) -> None:
    """A stop that comes as requests end cancels them all: none keeps polling on its own."""
    before = set(threading.enumerate())
    for _ in range(10):
        checks = [
            HttpCheckCollector(f"c{i}", server.url + "/check/ok", interval=0.01)
            for i in range(CHECKS)
        ]
        engine = Engine(Config(), checks)
        engine.start()
        wait_for(lambda: all(polls(engine, c.name) >= 2 for c in checks))  # noqa: B023
        engine.stop()
        assert ours(set(threading.enumerate()) - before) == []


def test_a_batch_the_engine_cannot_take_becomes_an_event_and_polls_go_on(
    server: RemoteServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = Engine._states
    failed: list[bool] = []

    def first_fails(self: Engine, *args: Any) -> Any:
        if not failed:
            failed.append(True)
            raise RuntimeError("store bug")
        return state(self, *args)

    monkeypatch.setattr(Engine, "_states", first_fails)
    check = HttpCheckCollector("blog", server.url + "/check/ok", interval=0.05)
    engine = Engine(Config(), [check])
    engine.start()
    try:
        wait_for(lambda: polls(engine, check.name) >= 2)
    finally:
        engine.stop()
    texts = [e.text for e in engine.snapshot().events if e.source == check.name]
    assert texts[:2] == ["stopped: RuntimeError: store bug (restarting)", "running again"]
    assert engine.snapshot().metrics["remote/blog/local/status"].reading.text == "up"
