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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, quote_plus

import httpx

from collectors.base import Reading, Status

MAX_BODY = 4 * 1024 * 1024
"""Bytes of a response body read at most; a check stops reading there, an API call fails."""
USER_AGENT = "gongwatch"
"""User-Agent header of every request."""


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


class Prepared:
    """A request asked again and again (a check's URL): built once per client, not at every
    poll, since building one (parsing the URL, merging the headers) costs as much as a good
    part of sending it."""

    __slots__ = ("_built", "method", "params", "seconds", "url")

    def __init__(
        self, method: str, url: str, seconds: float, params: dict[str, str] | None = None
    ) -> None:
        """Args:
        method: HTTP method.
        url: what to ask.
        seconds: the deadline of the whole request.
        params: query parameters added to the URL.
        """
        self.method, self.url, self.seconds, self.params = method, url, seconds, params
        self._built: tuple[httpx.AsyncClient, httpx.Request] | None = None

    def build(self, client: httpx.AsyncClient) -> httpx.Request:
        """Return the request for ``client`` (raises httpx.InvalidURL for a bad URL)."""
        if self._built is None or self._built[0] is not client:
            # The request's own timeout: a client shared by sources has no one that fits all.
            timeout = httpx.Timeout(self.seconds)
            request = client.build_request(
                self.method, self.url, params=self.params, timeout=timeout
            )
            self._built = (client, request)
        return self._built[1]


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
    return await send(client, Prepared(method, url, seconds, params), keep_body)


async def send(client: httpx.AsyncClient, prepared: Prepared, keep_body: bool = True) -> Fetched:
    """Send a prepared request with its deadline, as ``fetch`` does."""
    seconds = prepared.seconds
    start = time.perf_counter()
    try:
        # Not wait_for: in Python 3.11 it loses a cancel that comes as the request ends.
        async with asyncio.timeout(seconds):
            code, body = await _request(client, prepared.build(client), keep_body)
    except (TimeoutError, httpx.TimeoutException):
        return Fetched(None, time.perf_counter() - start, error=f"no answer within {seconds:g} s")
    except _TooLarge:
        return Fetched(None, time.perf_counter() - start, error="answer larger than 4 MiB")
    except (httpx.HTTPError, httpx.InvalidURL, OSError, ssl.SSLError) as exc:
        return Fetched(None, time.perf_counter() - start, error=describe(exc))
    return Fetched(code, time.perf_counter() - start, body)


async def _request(
    client: httpx.AsyncClient, request: httpx.Request, keep_body: bool
) -> tuple[int, bytes]:
    chunks: list[bytes] = []
    size = 0
    resp = await client.send(request, stream=True)
    try:
        # A body only timed is read as it came: decompressing it would cost for nothing.
        for_reading = resp.aiter_bytes() if keep_body else resp.aiter_raw()
        async for chunk in for_reading:
            size += len(chunk)
            if size > MAX_BODY:
                if keep_body:
                    raise _TooLarge
                break
            if keep_body:
                chunks.append(chunk)
        return resp.status_code, b"".join(chunks)
    finally:
        await resp.aclose()


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
