"""Provides what every remote source of the process shares: one event loop on one thread, its
HTTP clients, and the thread that hands finished checks over.

Fifty HTTP checks used to cost fifty threads, and each poll an event loop and an HTTP client
(transports, pools) of its own. Now they all run on this loop: a source waiting for an answer
costs a task, a source between polls a timer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from collectors.background import BackgroundLoop
from collectors.remote import new_client

LOOP_NAME = "poll-remote"
"""Name of the loop's thread."""
RESULTS_NAME = "poll-remote-results"
"""Name prefix of the threads that hand finished polls over (at most ``RESULTS_THREADS``)."""
RESULTS_THREADS = 2
"""Threads that may hand results over at once: one does in steady state; a second is made
only while the first waits (a source being judged for long), so the others go on."""
DEFAULT_TIMEOUT = 10.0
"""Seconds a request on a shared client may take when it says nothing (``fetch`` always does)."""

_LOOP = BackgroundLoop(LOOP_NAME)


def remote_loop() -> BackgroundLoop:
    """Return the process's loop for remote sources."""
    return _LOOP


def check_client() -> httpx.AsyncClient:
    """Return the loop's client for HTTP checks; call on the loop.

    It keeps no idle connection: each check opens its own, so its time includes connecting,
    as a visitor's would, and a connection the server dropped while idle never turns into a
    check that looks down.
    """
    return _LOOP.resource("check-client", lambda: new_client(DEFAULT_TIMEOUT, keep_alive=0))


def api_client() -> httpx.AsyncClient:
    """Return the loop's client for APIs (Server Density-style); call on the loop. It keeps
    connections open between calls: a poll asks one host many times."""
    return _LOOP.resource("api-client", lambda: new_client(DEFAULT_TIMEOUT))


def results_pool() -> ThreadPoolExecutor:
    """Return the loop's threads that hand finished polls to their receiver; call on the
    loop. The loop itself only waits for answers: judging a batch on it would delay the
    timing of every other request."""
    return _LOOP.resource(
        "results", lambda: ThreadPoolExecutor(RESULTS_THREADS, thread_name_prefix=RESULTS_NAME)
    )
