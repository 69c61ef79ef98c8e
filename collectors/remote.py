"""Provides what the remote collectors share: states, readings, the timed fetch, secret hygiene.

The collectors themselves live in ``collectors.serverdensity`` (a Server Density-style API) and
``collectors.http_check`` (our own HTTP checks from this host).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import ssl
import stat
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

import anyio
import anyio.lowlevel
import httpx

from collectors.base import Reading, Status

MAX_BODY = 4 * 1024 * 1024
"""Bytes of a response body read at most; a check stops reading there, an API call fails."""
USER_AGENT = "gongwatch"
"""User-Agent header of every request."""

T = TypeVar("T")


class State(StrEnum):
    """How a service looks from one location."""

    UP = "up"
    SLOW = "slow"
    """Answered, but slower than the service's slow threshold."""
    DOWN = "down"
    """An error, a timeout or an unexpected status."""
    UNKNOWN = "unknown"
    """Not known right now (the API that tells could not be asked)."""

    @property
    def status(self) -> Status:
        """The reading status of this state: slow warns, down is critical."""
        return _STATE_STATUS[self]


_STATE_STATUS = {
    State.UP: Status.OK,
    State.SLOW: Status.WARNING,
    State.DOWN: Status.CRITICAL,
    State.UNKNOWN: Status.UNKNOWN,
}


@dataclass(frozen=True, slots=True)
class LocationResult:
    """The state of one service seen from one location."""

    service: str
    """Service key (metric-key safe)."""
    location: str
    """Location key (metric-key safe), ``local`` for checks from this host."""
    state: State
    time: float | None = None
    """Response time in seconds; None when there was no answer."""
    slow: float = 0.4
    """Slow threshold in seconds."""
    code: int | None = None
    """HTTP status code, where known."""
    error: str | None = None
    """Why it is down or unknown, one line (never holds a token)."""
    label: str | None = None
    """Display name of the location (a node's full name)."""


def to_readings(results: Iterable[LocationResult], now: float) -> Iterator[Reading]:
    """Turn location results into ``remote/<service>/<location>/{time,status,error}`` readings.

    The status reading has no value (so no detector judges it) and carries the state as its text
    and its status (slow warns, down is critical), which alert rules can match. The time
    reading goes to the detectors like any other metric. All readings of a result share ``now``,
    so a UI can tell a current error from a stale one. The status reading's label is the
    location's display name (a node's full name, where the API gives one).
    """
    for r in results:
        base = f"remote/{r.service}/{r.location}"
        name = r.label or r.location
        if r.time is not None:
            yield Reading(f"{base}/time", r.time, "s", now, high=r.slow, label=f"{name} time")
        yield Reading(
            f"{base}/status", None, "", now, status=r.state.status, text=str(r.state), label=name
        )
        if r.error:
            yield Reading(
                f"{base}/error",
                None,
                "",
                now,
                status=Status.UNKNOWN,
                text=r.error,
                label=f"{name} error",
            )


# -- secrets ---------------------------------------------------------------------------------

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
_TOKEN_PARAM = re.compile(r"((?:token|api_key|apikey|key|password)=)[^&\s\"'#]+", re.IGNORECASE)


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and every ``token=...`` value masked."""
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for s in secrets:
        for form in {s, quote(s, safe=""), quote_plus(s)}:
            text = text.replace(form, "***")
    return _TOKEN_PARAM.sub(r"\1***", text)


class RedactingFilter(logging.Filter):
    """A log filter that masks secrets in a record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record with its message redacted; never drops it."""
        message = record.getMessage()
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


_FILTER = RedactingFilter()
_FILTERED_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "asyncio",
)


def protect_secret(secret: str | None) -> None:
    """Register a secret: ``redact`` masks it, and the HTTP libraries' logs never show it."""
    if not secret:
        return
    with _SECRETS_LOCK:
        _SECRETS.add(secret)
    for name in _FILTERED_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


def config_warnings(path: str | os.PathLike[str] | None, holds_token: bool) -> list[str]:
    """Return warnings about a config file that holds a token other users can read.

    Args:
        path: the configuration file (None or a missing file: nothing to say).
        holds_token: whether the file itself holds an API token (not only its variable's name).
    """
    if not holds_token or path is None:
        return []
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return []
    if not mode & (stat.S_IRGRP | stat.S_IROTH):
        return []
    return [
        f"{os.fspath(path)} holds an API token and other users can read it; "
        f"run: chmod 600 {os.fspath(path)} (or use token_env)"
    ]


# -- the timed fetch -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of one request."""

    code: int | None
    """HTTP status code; None when no answer came."""
    elapsed: float
    """Seconds from sending the request to the end of the body (or the failure)."""
    body: bytes = b""
    """The body, when it was kept."""
    error: str | None = None
    """One stable line saying why no answer came (no numbers that change, no secrets)."""


class _TooLarge(Exception):
    """A body larger than MAX_BODY where the whole body was needed."""


async def fetch(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    seconds: float,
    params: dict[str, str] | None = None,
    keep_body: bool = True,
) -> Fetched:
    """Send one request with a hard deadline and describe what came back.

    The deadline of ``seconds`` covers everything (connect, TLS, headers, body), so a server
    that trickles bytes costs no more than that either. Failures never raise: they come back as
    ``Fetched.error``.
    """
    start = time.perf_counter()
    try:
        code, body = await asyncio.wait_for(
            _request(client, method, url, params, keep_body, seconds), seconds
        )
    except (TimeoutError, httpx.TimeoutException):
        return Fetched(None, time.perf_counter() - start, error=f"no answer within {seconds:g} s")
    except _TooLarge:
        return Fetched(None, time.perf_counter() - start, error="answer larger than 4 MiB")
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ssl.SSLError) as exc:
        return Fetched(None, time.perf_counter() - start, error=describe(exc))
    return Fetched(code, time.perf_counter() - start, body)


async def _request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    params: dict[str, str] | None,
    keep_body: bool,
    seconds: float,
) -> tuple[int, bytes]:
    chunks: list[bytes] = []
    size = 0
    # The request's own timeout: a client shared by sources has no single one that fits all.
    timeout = httpx.Timeout(seconds)
    async with client.stream(method, url, params=params, timeout=timeout) as resp:
        async for chunk in resp.aiter_bytes():
            size += len(chunk)
            if size > MAX_BODY:
                if keep_body:
                    raise _TooLarge
                break
            if keep_body:
                chunks.append(chunk)
        return resp.status_code, b"".join(chunks)


def describe(exc: BaseException) -> str:
    """Return a stable one-line description of a request failure, with secrets masked."""
    text = re.sub(r"\[Errno -?\d+\]\s*", "", str(exc)).strip()
    if isinstance(exc, httpx.ConnectError | ConnectionError):
        kind = "cannot connect"
    elif isinstance(exc, ssl.SSLError) or "SSL" in text or "certificate" in text:
        kind = "TLS error"
    elif isinstance(exc, httpx.RemoteProtocolError | httpx.LocalProtocolError):
        kind = "protocol error"
    else:
        kind = type(exc).__name__
    line = f"{kind}: {text}" if text else kind
    return redact(line.splitlines()[0])[:200]


_SSL: ssl.SSLContext | None = None
_SSL_LOCK = threading.Lock()


def ssl_context() -> ssl.SSLContext:
    """Return the process's TLS context (built once: loading the CA bundle costs a few ms)."""
    global _SSL
    with _SSL_LOCK:
        if _SSL is None:
            import certifi

            _SSL = ssl.create_default_context(cafile=certifi.where())
        return _SSL


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
