"""Provides the loops and HTTP clients of the remote sources: the loop every source of the
process shares (one event loop on one thread), its clients, the threads that hand finished
checks over, and ``run_async`` for a request of one's own.

Fifty HTTP checks used to cost fifty threads, and each poll an event loop and an HTTP client
(transports, pools) of its own. Now they all run on this loop: a source waiting for an answer
costs a task, a source between polls a timer.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import ssl
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
import httpx

from collectors.background import BackgroundLoop
from collectors.remote import USER_AGENT

LOOP_NAME = "poll-remote"
"""Name of the loop's thread."""
RESULTS_NAME = "poll-remote-results"
"""Name prefix of the threads that hand finished polls over (at most ``RESULTS_THREADS``)."""
RESULTS_THREADS = 2
"""Threads that may hand results over at once: one does in steady state; a second is made
only while the first waits (a source being judged for long), so the others go on."""
DEFAULT_TIMEOUT = 10.0
"""Seconds a request on a shared client may take when it says nothing (``fetch`` always does)."""

T = TypeVar("T")
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


_SSL: ssl.SSLContext | None = None
_SSL_LOCK = threading.Lock()


class CertificatesAtFirstUse(ssl.SSLContext):
    """A client TLS context (certificates and host names checked) that loads its CA bundle at
    its first TLS connection.

    The bundle costs about 2.6 MiB of memory and a few ms; a monitor whose checks and APIs are
    all plain http never needs it. Until it is loaded no certificate is trusted, so a
    connection can never be made without it.
    """

    def __init__(self, protocol: int = ssl.PROTOCOL_TLS_CLIENT) -> None:
        del protocol  # ``SSLContext.__new__`` took it
        super().__init__()
        self._bundle_lock = threading.Lock()
        self._bundle_loaded = False

    def load_bundle(self) -> None:
        """Load certifi's CA bundle, once."""
        with self._bundle_lock:
            if not self._bundle_loaded:
                import certifi

                self.load_verify_locations(cafile=certifi.where())
                self._bundle_loaded = True

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        self.load_bundle()
        return super().wrap_socket(*args, **kwargs)

    def wrap_bio(self, *args: Any, **kwargs: Any) -> ssl.SSLObject:
        self.load_bundle()
        return super().wrap_bio(*args, **kwargs)


def ssl_context() -> ssl.SSLContext:
    """Return the process's TLS context for remote sources (one for all their clients)."""
    global _SSL
    with _SSL_LOCK:
        if _SSL is None:
            _SSL = CertificatesAtFirstUse(ssl.PROTOCOL_TLS_CLIENT)
        return _SSL


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Keeps no cookie and sends none: a client shared by many sources must not carry one
    site's cookies into the next check, as a client per request never did."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        """Refuse every cookie a response sets."""
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        """Send no cookie."""
        return False


def new_client(timeout: float, keep_alive: int = 20) -> httpx.AsyncClient:
    """Return an HTTP client: no redirects followed, the shared TLS context.

    Args:
        timeout: the default timeout of its requests, in seconds (``fetch`` sets its own).
        keep_alive: idle connections kept open for the next request (0: none, each request
            opens its own). Connections in use are not limited: a client shared by many
            sources never makes one wait for a free connection while another's hangs.
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout),
        verify=ssl_context(),
        follow_redirects=False,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(max_connections=None, max_keepalive_connections=keep_alive),
        cookies=http.cookiejar.CookieJar(policy=_NoCookies()),
    )


_PRIMING = threading.Lock()
_primed = False


def prime() -> None:
    """Load what httpx loads only at a client's first request (its transport, anyio's asyncio
    backend), once per process, in the calling thread. Remote collectors call it when they are
    made: dozens of checks making their first requests at once, each from its own thread,
    would otherwise all race on those imports' module locks, which cost the monitor seconds of
    a core at start."""
    global _primed
    with _PRIMING:
        if _primed:
            return

        async def touch() -> None:
            async with new_client(1.0):
                await anyio.lowlevel.checkpoint()

        run_async(touch)
        _primed = True


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from blocking code, on a private event loop.

    Collectors poll from their own threads, where this is ``asyncio.run``. Called from a thread
    that already runs a loop (a test, an async caller), it runs the loop in a helper thread
    instead, since a thread can run only one loop at a time.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())
    box: list[T] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            box.append(asyncio.run(factory()))
        except BaseException as exc:  # handed back to the caller below
            failure.append(exc)

    thread = threading.Thread(target=target, name="remote-poll")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return box[0]
