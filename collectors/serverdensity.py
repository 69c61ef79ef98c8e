"""Provides the Server Density-style collector: each service's state from each check location."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any

from collectors.base import Batch, unavailable
from collectors.breaker import CircuitBreaker, backoff_for
from collectors.locations import location_slug
from collectors.remote import (
    LocationResult,
    State,
    fetch,
    protect_secret,
    redact,
    to_readings,
)
from collectors.remote_loop import api_client, remote_loop
from collectors.serverdensity_json import (
    DEFAULT_SLOW,
    ApiError,
    Service,
    judge,
    parse_nodes,
    parse_services,
)

__all__ = ["DEFAULT_SLOW", "PUBLISH_WAIT", "ApiError", "ServerDensityCollector", "Service"]

NODES_MAX_AGE = 3600.0
"""Seconds the node list (location ids to names) is kept before it is asked again."""
PUBLISH_WAIT = 3.0
"""Seconds a poll waits for answers before it reports what it has (when the timeout is
longer); the requests still out go on, and their answers come with a later poll."""
SLACK = 0.25
"""Seconds a poll waits past the timeout, when it waits for every request, so that a timeout
is reported as one rather than as a request still out."""
Request = Coroutine[Any, Any, Any]
NO_LOCATION = "api"
"""Location key of a service that could not be read and names no check location."""


@dataclass(slots=True)
class _Job:
    """One request that may outlive the poll that started it."""

    task: asyncio.Task[Any] | None = None
    """The request in flight, or done and not yet reported."""
    late: asyncio.Task[Any] | None = None
    """A request that ended after its poll had reported: used when the next one is late."""


class ServerDensityCollector:
    """Polls a Server Density-style API (v2 shape, see design.md) for every location's state.

    Each poll asks ``/inventory/services``, then each watched service's
    ``/service-monitor/last/{id}`` (and ``/service-monitor/nodes`` now and then, to name the
    locations). Every request runs on its own, with its own deadline (``timeout``); the poll
    reports what has come within ``wait`` seconds, and a service still out is listed as
    unknown, "still waiting", until its answer comes (reported with a later poll; no second
    request goes out while one is in flight). A failing call becomes one stable error line; a
    route that keeps failing is left alone for a while by its circuit breaker. The token goes
    in the ``token`` query parameter and nowhere else.
    """

    def __init__(
        self,
        name: str,
        url: str,
        token: str | None,
        token_hint: str = "",
        interval: float = 60.0,
        timeout: float = 10.0,
        services: tuple[str, ...] = (),
        clock: Callable[[], float] = time.monotonic,
        wait: float = PUBLISH_WAIT,
    ) -> None:
        """Args:
        name: the API's name in the config; the source is called ``remote:<name>``.
        url: base URL of the API.
        token: the API token (None when it could not be found).
        token_hint: where the token should come from, for the message when it is missing.
        interval: seconds between polls.
        timeout: seconds each request may take.
        services: names or ids of the services to watch; empty for all.
        clock: monotonic clock, for the breakers and the node cache.
        wait: seconds a poll waits for answers before it reports (at most ``timeout``).
        """
        self.name = f"remote:{name}"
        self.url = url.rstrip("/")
        self._token = token
        self._hint = token_hint
        self.interval, self.timeout, self.services = interval, timeout, services
        self.wait = wait
        self._clock = clock
        self.breakers: dict[str, CircuitBreaker] = {}
        self._nodes: dict[str, str] | None = None
        self._nodes_at = 0.0
        self._known: dict[tuple[str, str], LocationResult] = {}
        self._services: list[Service] = []
        self._jobs: dict[str, _Job] = {}
        self._loop = remote_loop()
        protect_secret(token)

    def __repr__(self) -> str:
        return f"ServerDensityCollector({self.name!r}, {redact(self.url)!r})"

    def poll(self) -> Batch:
        """Ask the API once; every problem becomes an error line, never an exception."""
        if not self._token:
            return unavailable(self.name, f"no API token: {self._hint or 'set token_env'}")
        now = time.time()
        errors: list[str] = []
        round_ = self._loop.submit(self._round(errors))
        try:
            results = round_.result(2 * self._round_seconds() + 5.0)
        except concurrent.futures.TimeoutError:
            return Batch(self.name, errors=("the poll did not finish (internal error)",))
        except Exception as exc:  # a bug must not leak the token through the engine's message
            return Batch(self.name, errors=(redact(f"internal error: {type(exc).__name__}"),))
        return Batch(self.name, tuple(to_readings(results, now)), tuple(errors))

    def close(self) -> None:
        """Cancel the requests still out (the engine calls this when it stops)."""
        tasks = [t for job in self._jobs.values() for t in (job.task, job.late) if t is not None]
        self._loop.cancel(tasks)

    def _round_seconds(self) -> float:
        # With a wait as long as the timeout, every request ends within the poll: wait for it.
        return self.wait if self.wait < self.timeout else self.timeout + SLACK

    async def _round(self, errors: list[str]) -> list[LocationResult]:
        """One poll, on the background loop: start what is not in flight, wait until the
        deadline, and report every service, answered or not."""
        deadline = asyncio.get_running_loop().time() + self._round_seconds()
        inventory = self._start("inventory", lambda: self._call("inventory/services", "services"))
        if self._nodes_due() and not self._in_flight("nodes"):
            self._nodes_at = self._clock()
            self._start("nodes", lambda: self._call("service-monitor/nodes", "nodes"))
        await _wait_until([inventory], deadline)
        services = self._inventory(errors)
        if services is None:
            return self._unknown(None, errors[-1])
        lasts = [self._start(f"last/{s.id}", partial(self._last, s)) for s in services]
        if self.wait >= self.timeout:  # every request ends within the poll: from its start
            deadline = asyncio.get_running_loop().time() + self._round_seconds()
        nodes = self._jobs["nodes"].task if self._nodes is None else None
        # Until the node names are known, wait for them as for the results: a location named
        # by its id in one poll and by its name in the next would change its metric key.
        await _wait_until([*lasts, *([nodes] if nodes is not None else [])], deadline)
        self._harvest_nodes(errors)
        results: list[LocationResult] = []
        for service in services:
            results.extend(self._service_results(service, errors))
        return results

    def _start(self, name: str, request: Callable[[], Request]) -> asyncio.Task[Any]:
        """Return the request ``name`` in flight, starting it when none is."""
        job = self._jobs.setdefault(name, _Job())
        if job.task is not None and job.task.done():
            job.late, job.task = job.task, None  # answered after its poll: kept as a fallback
        if job.task is None:
            job.task = self._loop.spawn(request())
        return job.task

    def _in_flight(self, name: str) -> bool:
        job = self._jobs.get(name)
        return job is not None and job.task is not None and not job.task.done()

    def _take(self, name: str) -> asyncio.Task[Any] | None:
        """Return the finished request ``name`` (or the late one), or None when it is out."""
        job = self._jobs.get(name)
        if job is None:
            return None
        if job.task is not None and job.task.cancelled():
            job.task = None  # ended by close(): asked again next time
        if job.late is not None and job.late.cancelled():
            job.late = None
        if job.task is not None and job.task.done():
            done, job.task, job.late = job.task, None, None
            return done
        late, job.late = job.late, None
        return late

    def _waiting(self) -> str:
        return f"still waiting (timeout {self.timeout:g} s)"

    def _inventory(self, errors: list[str]) -> list[Service] | None:
        """Return the services to report, or None (with the error line) when none are known."""
        done = self._take("inventory")
        if done is None:
            errors.append(f"services: {self._waiting()}")
            return self._services or None
        try:
            services, problems = parse_services(done.result())
        except ApiError as exc:
            errors.append(str(exc))
            return None
        errors.extend(problems)
        self._services = self._select(services, errors)
        return self._services

    def _harvest_nodes(self, errors: list[str]) -> None:
        done = self._take("nodes")
        if done is None:
            return
        try:
            self._nodes = parse_nodes(done.result())
        except ApiError as exc:
            errors.append(str(exc))

    def _service_results(self, service: Service, errors: list[str]) -> list[LocationResult]:
        """The locations of one service: its answer, its error, or "still waiting"."""
        done = self._take(f"last/{service.id}")
        if done is None:
            errors.append(f"service {service.name!r}: {self._waiting()}")
            return self._unknown(service, self._waiting())
        try:
            rows = done.result()
        except ApiError as exc:
            errors.append(str(exc))
            return self._unknown(service, str(exc))
        return self._locations(service, rows, errors)

    async def _call(self, route: str, what: str) -> Any:
        """GET one route through its breaker and return the parsed JSON, or raise ApiError."""
        breaker = self.breakers.get(route)
        if breaker is None:
            breaker = self.breakers[route] = CircuitBreaker(
                *backoff_for(self.interval), clock=self._clock
            )
        if not breaker.allow():
            raise ApiError(f"{what}: {breaker.last_error} (backing off)")
        try:
            data = await self._get(route, what)
        except ApiError as exc:
            breaker.failure(str(exc).removeprefix(f"{what}: "))
            if breaker.is_open:
                raise ApiError(f"{exc} (backing off)") from None
            raise
        breaker.success()
        return data

    async def _get(self, route: str, what: str) -> Any:
        params = {"token": self._token or ""}
        got = await fetch(api_client(), "GET", f"{self.url}/{route}", self.timeout, params=params)
        if got.error is not None:
            raise ApiError(redact(f"{what}: {got.error}"))
        if got.code in (401, 403):
            raise ApiError(f"{what}: HTTP {got.code}: the API refused the token")
        if got.code != 200:
            raise ApiError(f"{what}: HTTP {got.code}")
        try:
            return json.loads(got.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise ApiError(f"{what}: malformed JSON") from None

    def _select(self, services: list[Service], errors: list[str]) -> list[Service]:
        if not self.services:
            return services
        chosen: list[Service] = []
        for wanted in self.services:
            match = [s for s in services if wanted in (s.id, s.name, s.key)]
            if not match:
                errors.append(f"no service named {wanted!r} in the inventory")
            chosen.extend(m for m in match if m not in chosen)
        return chosen

    async def _last(self, service: Service) -> list[Any]:
        data = await self._call(f"service-monitor/last/{service.id}", f"service {service.name!r}")
        if not isinstance(data, list):
            raise ApiError(f"service {service.name!r}: unexpected JSON (not a list of results)")
        return data

    def _nodes_due(self) -> bool:
        return self._nodes is None or self._clock() - self._nodes_at > NODES_MAX_AGE

    def _place(self, node: str) -> tuple[str, str]:
        """Return the location key and display name of a node id."""
        name = (self._nodes or {}).get(node, node)
        return location_slug(name), name

    def _locations(
        self, service: Service, rows: list[Any], errors: list[str]
    ) -> list[LocationResult]:
        out = []
        for row in rows:
            node = row.get("location") if isinstance(row, dict) else None
            if isinstance(node, bool) or not isinstance(node, str | int) or node == "":
                errors.append(f"service {service.name!r}: a result names no location")
                continue
            key, name = self._place(str(node))
            result = judge(service, key, name, row)
            self._known[(result.service, result.location)] = result
            out.append(result)
        if not out:  # listed all the same, so that it is never left out
            why = "results name no location" if rows else "no results"
            return self._unknown(service, f"service {service.name!r}: {why}")
        return out

    def _unknown(self, service: Service | None, error: str) -> list[LocationResult]:
        """Mark the locations of ``service`` (or of all) unknown: we cannot tell now. A service
        never read is listed by its check locations, so it is never left out."""
        known = [r for (svc, _), r in self._known.items() if service is None or svc == service.key]
        out = [
            LocationResult(
                r.service, r.location, State.UNKNOWN, slow=r.slow, error=error, label=r.label
            )
            for r in known
        ]
        if service is not None and not out:
            places = [self._place(n) for n in service.locations] or [(NO_LOCATION, "API")]
            out = [
                LocationResult(
                    service.key, key, State.UNKNOWN, slow=service.slow, error=error, label=name
                )
                for key, name in dict.fromkeys(places)
            ]
        return out


async def _wait_until(tasks: list[asyncio.Task[Any]], deadline: float) -> None:
    """Wait for ``tasks`` until the loop's clock reaches ``deadline``."""
    pending = [t for t in tasks if not t.done()]
    remaining = deadline - asyncio.get_running_loop().time()
    if pending and remaining > 0:
        await asyncio.wait(pending, timeout=remaining)
