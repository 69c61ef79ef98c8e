"""Provides the Server Density-style collector: each service's state from each check location."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from collectors.base import Batch, unavailable
from collectors.breaker import CircuitBreaker, backoff_for
from collectors.locations import location_slug, slug
from collectors.remote import (
    LocationResult,
    State,
    fetch,
    new_client,
    protect_secret,
    redact,
    run_async,
    to_readings,
)

NODES_MAX_AGE = 3600.0
"""Seconds the node list (location ids to names) is kept before it is asked again."""
DEFAULT_SLOW = 0.4
"""Slow threshold in seconds of a service that does not say its own."""


@dataclass(frozen=True, slots=True)
class Service:
    """One monitored service, as the inventory describes it."""

    id: str
    name: str
    key: str
    """Metric-key-safe name."""
    slow: float
    """Slow threshold in seconds."""


class ApiError(Exception):
    """One call of the API failed; the message is a stable, secret-free line."""


class ServerDensityCollector:
    """Polls a Server Density-style API (v2 shape, see design.md) for every location's state.

    Each poll asks ``/inventory/services``, then each watched service's
    ``/service-monitor/last/{id}`` concurrently (and ``/service-monitor/nodes`` now and then, to
    name the locations), each request with its own deadline. A failing call becomes one stable
    error line; a route that keeps failing is left alone for a while by its circuit breaker.
    The token goes in the ``token`` query parameter and nowhere else.
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
        """
        self.name = f"remote:{name}"
        self.url = url.rstrip("/")
        self._token = token
        self._hint = token_hint
        self.interval, self.timeout, self.services = interval, timeout, services
        self._clock = clock
        self.breakers: dict[str, CircuitBreaker] = {}
        self._nodes: dict[str, str] | None = None
        self._nodes_at = 0.0
        self._known: dict[tuple[str, str], LocationResult] = {}
        protect_secret(token)

    def __repr__(self) -> str:
        return f"ServerDensityCollector({self.name!r}, {redact(self.url)!r})"

    def poll(self) -> Batch:
        """Ask the API once; every problem becomes an error line, never an exception."""
        if not self._token:
            return unavailable(self.name, f"no API token: {self._hint or 'set token_env'}")
        now = time.time()
        errors: list[str] = []
        try:
            results = run_async(lambda: self._poll(errors))
        except Exception as exc:  # a bug must not leak the token through the engine's message
            return Batch(self.name, errors=(redact(f"internal error: {type(exc).__name__}"),))
        return Batch(self.name, tuple(to_readings(results, now)), tuple(errors))

    async def _poll(self, errors: list[str]) -> list[LocationResult]:
        async with new_client(self.timeout) as client:
            try:
                inventory = await self._call(client, "inventory/services", "services")
                services = self._select(_parse_services(inventory), errors)
            except ApiError as exc:
                errors.append(str(exc))
                return self._unknown(None, str(exc))
            lasts = asyncio.gather(
                *(self._last(client, s) for s in services), return_exceptions=True
            )
            outcomes, node_error = await asyncio.gather(lasts, self._refresh_nodes(client))
        if node_error:
            errors.append(node_error)
        results: list[LocationResult] = []
        for service, outcome in zip(services, outcomes, strict=True):
            if isinstance(outcome, ApiError):
                errors.append(str(outcome))
                results.extend(self._unknown(service.key, str(outcome)))
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                results.extend(self._locations(service, outcome))
        for r in results:
            self._known[(r.service, r.location)] = r
        return results

    async def _call(self, client: httpx.AsyncClient, route: str, what: str) -> Any:
        """GET one route through its breaker and return the parsed JSON, or raise ApiError."""
        breaker = self.breakers.get(route)
        if breaker is None:
            breaker = self.breakers[route] = CircuitBreaker(
                *backoff_for(self.interval), clock=self._clock
            )
        if not breaker.allow():
            raise ApiError(f"{what}: {breaker.last_error} (backing off)")
        try:
            data = await self._get(client, route, what)
        except ApiError as exc:
            breaker.failure(str(exc).removeprefix(f"{what}: "))
            if breaker.is_open:
                raise ApiError(f"{exc} (backing off)") from None
            raise
        breaker.success()
        return data

    async def _get(self, client: httpx.AsyncClient, route: str, what: str) -> Any:
        params = {"token": self._token or ""}
        got = await fetch(client, "GET", f"{self.url}/{route}", self.timeout, params=params)
        if got.error is not None:
            raise ApiError(redact(f"{what}: {got.error}"))
        if got.code in (401, 403):
            raise ApiError(f"{what}: HTTP {got.code}: the API refused the token")
        if got.code != 200:
            raise ApiError(f"{what}: HTTP {got.code}")
        try:
            return json.loads(got.body)
        except (ValueError, UnicodeDecodeError):
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

    async def _last(self, client: httpx.AsyncClient, service: Service) -> list[dict[str, Any]]:
        data = await self._call(
            client, f"service-monitor/last/{service.id}", f"service {service.name!r}"
        )
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise ApiError(f"service {service.name!r}: unexpected JSON (not a list of results)")
        return data

    def _nodes_due(self) -> bool:
        return self._nodes is None or self._clock() - self._nodes_at > NODES_MAX_AGE

    async def _refresh_nodes(self, client: httpx.AsyncClient) -> str | None:
        """Ask for the node names when they are due; return an error line, or None."""
        if not self._nodes_due():
            return None
        self._nodes_at = self._clock()
        try:
            data = await self._call(client, "service-monitor/nodes", "nodes")
        except ApiError as exc:
            return str(exc)
        if not isinstance(data, list):
            return "nodes: unexpected JSON (not a list)"
        self._nodes = {
            str(n["id"]): str(n["name"])
            for n in data
            if isinstance(n, dict) and n.get("id") is not None and n.get("name")
        }
        return None

    def _locations(self, service: Service, rows: list[dict[str, Any]]) -> list[LocationResult]:
        out = []
        for row in rows:
            node = str(row.get("location", "?"))
            name = (self._nodes or {}).get(node, node)
            out.append(_judge(service, location_slug(name), name, row))
        return out

    def _unknown(self, service: str | None, error: str) -> list[LocationResult]:
        """Mark the locations last seen for ``service`` (or all) unknown: we cannot tell now."""
        return [
            LocationResult(
                r.service, r.location, State.UNKNOWN, slow=r.slow, error=error, label=r.label
            )
            for (svc, _), r in self._known.items()
            if service is None or svc == service
        ]


def _parse_services(data: Any) -> list[Service]:
    if not isinstance(data, list):
        raise ApiError("services: unexpected JSON (not a list)")
    out = []
    for item in data:
        if not isinstance(item, dict) or "_id" not in item:
            raise ApiError("services: unexpected JSON (an entry without _id)")
        name = str(item.get("name") or item["_id"])
        threshold = item.get("slowThreshold")
        slow = DEFAULT_SLOW
        if isinstance(threshold, int | float) and not isinstance(threshold, bool) and threshold > 0:
            slow = float(threshold) / 1000.0
        out.append(Service(str(item["_id"]), name, slug(name), slow))
    return out


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _judge(service: Service, location: str, label: str, row: dict[str, Any]) -> LocationResult:
    """Decide up, slow or down from one ``last`` row: down as the API says, slow by threshold."""
    status = str(row.get("status", "")).lower()
    seconds = float(row["time"]) if _number(row.get("time")) and row["time"] >= 0 else None
    code = int(row["code"]) if _number(row.get("code")) else None
    if status == "down":
        why = f"down from {label}" + (f" (HTTP {code})" if code else "")
        return LocationResult(
            service.key, location, State.DOWN, seconds, service.slow, code, why, label
        )
    if status not in ("up", "slow"):
        return LocationResult(
            service.key,
            location,
            State.UNKNOWN,
            seconds,
            service.slow,
            code,
            f"unknown status {status[:20]!r}",
            label,
        )
    slow = status == "slow" or (seconds is not None and seconds > service.slow)
    state = State.SLOW if slow else State.UP
    return LocationResult(service.key, location, state, seconds, service.slow, code, None, label)
