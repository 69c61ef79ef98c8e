"""Provides the HTTP check collector: one URL asked from this host, up, slow or down.

Every check of the process polls on the loop remote sources share (``collectors.remote_loop``)
with one HTTP client: a check waiting for its answer is a task there, one between polls a
timer, and a check that hangs holds back no other.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from collectors.base import Batch, Deliver
from collectors.breaker import CircuitBreaker, backoff_for
from collectors.locations import slug
from collectors.remote import Fetched, LocationResult, Prepared, State, redact, send, to_readings
from collectors.remote_loop import check_client, prime, remote_loop, results_pool

LOCAL = "local"
"""Location key of checks run from this host."""
SLACK = 5.0
"""Seconds past its timeout a blocking ``poll`` waits for its check (which ends at its
timeout) before it gives up on the loop."""

log = logging.getLogger(__name__)


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
        self._request = Prepared(method, url, timeout)
        self._polling: asyncio.Task[Any] | None = None

    def poll(self) -> Batch:
        """Ask the URL once (unless the breaker is open) and return its readings."""
        return remote_loop().run(self.check(), self.timeout + SLACK)

    def start_polling(self, deliver: Deliver) -> None:
        """Poll on the shared loop every ``interval`` seconds, handing each batch to
        ``deliver`` (see ``collectors.base.SelfPolling``)."""
        if self._polling is None:
            remote_loop().run(self._start(deliver))

    def stop_polling(self) -> None:
        """Cancel the polls and wait for the one in flight to end."""
        task, self._polling = self._polling, None
        if task is not None:
            remote_loop().cancel([task])

    def close(self) -> None:
        """Stop polling (the engine calls this when it stops)."""
        self.stop_polling()

    async def _start(self, deliver: Deliver) -> None:
        # Set on the loop, before the task's first step: it polls while it is the one.
        self._polling = remote_loop().spawn(self._keep_polling(deliver))

    async def _keep_polling(self, deliver: Deliver) -> None:
        loop = asyncio.get_running_loop()
        me = asyncio.current_task()
        # Cancelling is how polls stop; the check is for a cancel lost on its way in.
        while self._polling is me:
            start = time.perf_counter()
            batch = await self.check()
            took = time.perf_counter() - start
            if self._polling is not me:
                return
            try:
                # Waited for, so the next poll starts an interval after this one is judged.
                await loop.run_in_executor(results_pool(), deliver, batch, took)
            except Exception:  # the receiver's failure: say so, and keep polling
                log.exception("%s: handing over a poll failed", self.name)
            await asyncio.sleep(self.interval)

    async def check(self) -> Batch:
        """Ask the URL once (unless the breaker is open) and return its readings; await it on
        the shared loop (``remote_loop``), whose client it uses."""
        now = time.time()
        if not self.breaker.allow():
            result = self._down(self.breaker.last_error or "not answering", backing_off=True)
        else:
            fetched = await send(check_client(), self._request, keep_body=False)
            result = self._judge(fetched)
            if result.state is State.DOWN:
                self.breaker.failure(result.error or "down")
            else:
                self.breaker.success()
            if result.error and self.breaker.is_open:
                result = self._down(result.error, backing_off=True, fetched=fetched)
        errors = (result.error,) if result.error else ()
        return Batch(self.name, tuple(to_readings([result], now)), errors)

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
