"""Provides the HTTP check collector: one URL asked from this host, up, slow or down."""

from __future__ import annotations

import time
from collections.abc import Callable

from collectors.base import Batch
from collectors.breaker import CircuitBreaker, backoff_for
from collectors.locations import slug
from collectors.remote import (
    Fetched,
    LocationResult,
    State,
    fetch,
    new_client,
    prime,
    redact,
    run_async,
    to_readings,
)

LOCAL = "local"
"""Location key of checks run from this host."""


class HttpCheckCollector:
    """Asks one URL from this host every ``interval`` seconds and says how it answered.

    Up: an expected status within the slow threshold. Slow: an expected status, later than
    that. Down: a timeout, a connection error or an unexpected status. A poll never takes
    longer than ``timeout``; after repeated failures a circuit breaker stops asking for a while
    (the location stays down, with the last error) and tries again by itself.
    """

    def __init__(
        self,
        name: str,
        url: str,
        method: str = "GET",
        expect: tuple[int, ...] = (200,),
        timeout: float = 5.0,
        slow: float = 0.4,
        interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        """Args:
        name: the check's name; the service key of its metrics.
        url: what to ask.
        method: HTTP method.
        expect: status codes that count as up (redirects are not followed).
        timeout: seconds the whole request may take.
        slow: seconds above which the answer counts as slow.
        interval: seconds between polls.
        clock: monotonic clock for the circuit breaker.
        breaker: a breaker to use instead of the default one (tests).
        """
        prime()
        self.name = f"http:{name}"
        self.service = slug(name)
        self.url, self.method, self.expect = url, method, expect
        self.timeout, self.slow, self.interval = timeout, slow, interval
        self.breaker = breaker or CircuitBreaker(*backoff_for(interval), clock=clock)

    def poll(self) -> Batch:
        """Ask the URL once (unless the breaker is open) and return its readings."""
        now = time.time()
        if not self.breaker.allow():
            result = self._down(self.breaker.last_error or "not answering", backing_off=True)
        else:
            fetched = run_async(self._ask)
            result = self._judge(fetched)
            if result.state is State.DOWN:
                self.breaker.failure(result.error or "down")
            else:
                self.breaker.success()
            if result.error and self.breaker.is_open:
                result = self._down(result.error, backing_off=True, fetched=fetched)
        errors = (result.error,) if result.error else ()
        return Batch(self.name, tuple(to_readings([result], now)), errors)

    async def _ask(self) -> Fetched:
        async with new_client(self.timeout) as client:
            return await fetch(client, self.method, self.url, self.timeout, keep_body=False)

    def _judge(self, fetched: Fetched) -> LocationResult:
        if fetched.error is not None:
            return self._down(fetched.error)
        if fetched.code not in self.expect:
            wanted = ", ".join(str(c) for c in self.expect)
            return self._down(f"HTTP {fetched.code} (expected {wanted})", fetched=fetched)
        state = State.SLOW if fetched.elapsed > self.slow else State.UP
        return LocationResult(self.service, LOCAL, state, fetched.elapsed, self.slow, fetched.code)

    def _down(
        self, error: str, backing_off: bool = False, fetched: Fetched | None = None
    ) -> LocationResult:
        # The line is stable per kind of failure: the engine reports each new line once.
        line = redact(f"{error} (backing off)" if backing_off else error)
        answered = fetched is not None and fetched.code is not None
        return LocationResult(
            self.service,
            LOCAL,
            State.DOWN,
            fetched.elapsed if answered and fetched else None,
            self.slow,
            fetched.code if fetched else None,
            line,
        )
