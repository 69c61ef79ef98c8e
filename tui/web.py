"""Provides the web server of ``gongwatch web``: textual-serve, with a token check and an
origin check in front of it, and the screens it started ended when it stops."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import psutil
from aiohttp import web
from textual_serve.server import Server

from engine.private import same_secret

TOKEN_COOKIE = "gongwatch_token"
"""The cookie the first page sets once the token was given, so the page's own requests
(its scripts and the websocket) need not carry it."""
STOP_GRACE = 3.0
"""Seconds the screens get to quit on SIGTERM before they are killed."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def given_token(request: web.Request) -> str | None:
    """Return the token a request carries: ``?token=``, ``Authorization: Bearer`` or cookie."""
    if "token" in request.query:
        return request.query["token"]
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth[len("Bearer ") :]
    return request.cookies.get(TOKEN_COOKIE)


def same_origin(request: web.Request) -> bool:
    """Whether a request comes from a page served here (or from no page at all).

    Browsers let any site open a websocket to 127.0.0.1; the Origin they send says which did.
    """
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


class WebServer(Server):
    """textual-serve's server, guarded: a token when one is set, and same-origin websockets."""

    def __init__(self, command: str, host: str, port: int, token: str | None) -> None:
        """Args:
        command: the shell command each browser tab runs.
        host: the address to listen on.
        port: the TCP port.
        token: the secret every request must carry (None: none asked for).
        """
        super().__init__(command, host=host, port=port, title="gongwatch")
        self.token = token

    async def _make_app(self) -> web.Application:
        app: web.Application = await super()._make_app()
        app.middlewares.append(self._guard)
        return app

    @web.middleware
    async def _guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not same_origin(request):
            raise web.HTTPForbidden(text="gongwatch: a page from another site may not connect\n")
        if self.token is None:
            return await handler(request)
        token = given_token(request)
        if token is None or not same_secret(token.encode(), self.token.encode()):
            raise web.HTTPUnauthorized(text="gongwatch: open this page with ?token=...\n")
        response = await handler(request)
        if request.query.get("token") is not None and not response.prepared:
            response.set_cookie(TOKEN_COOKIE, self.token, httponly=True, samesite="Strict")
        return response

    async def handle_index(self, request: web.Request) -> web.StreamResponse:
        # The page links its websocket by absolute URL: make it the address the browser used,
        # not the one listened on (0.0.0.0 is no address to connect to).
        self.public_url = f"{request.scheme}://{request.host}"
        response: web.StreamResponse = await super().handle_index(request)
        return response

    async def on_shutdown(self, app: web.Application) -> None:
        # The screens are children of this process: none outlives the server.
        children = psutil.Process().children(recursive=True)
        for child in children:
            child.terminate()
        _, alive = await asyncio.to_thread(psutil.wait_procs, children, timeout=STOP_GRACE)
        for child in alive:
            child.kill()

    async def on_startup(self, app: web.Application) -> None:
        self.console.print(f"gongwatch web: serving on http://{self.host}:{self.port}/")


def serve(host: str, port: int, token: str | None, command: str) -> None:
    """Serve the screen to browsers until SIGTERM or Ctrl+C.

    Args:
        host: the address to listen on.
        port: the TCP port.
        token: the secret every request must carry, or None.
        command: the shell command each browser tab runs.
    """
    WebServer(command, host, port, token).serve()


__all__ = ["WebServer", "serve"]
