"""Keeps OpenSSL out of a monitor that never speaks TLS.

asyncio imports ``ssl`` as it loads, and ``ssl`` brings libssl and libcrypto: about 5 MiB of
the process, which a monitor that reads only this machine never uses. After ``defer_ssl``,
asyncio loads while ``ssl`` is hidden (asyncio takes that as "no TLS here", as it does on a
Python built without it), and the first real ``import ssl`` (httpx for an https source, the
link to a daemon over https, paho for MQTT over TLS) loads it as usual and hands it to
asyncio's modules too, so their TLS works as if it had been there from the start.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any

ASYNCIO_USERS = ("asyncio.base_events", "asyncio.selector_events")
"""asyncio's modules that read their module-level ``ssl`` only when a TLS connection is asked
for: giving them the module is enough."""
ASYNCIO_PROTOCOL = "asyncio.sslproto"
"""asyncio's TLS protocol, which defines names only when ``ssl`` imported: it is loaded again."""


def defer_ssl() -> bool:
    """Have asyncio load without ``ssl``, whenever something first imports it (a command that
    never does pays nothing); return False (and change nothing) when either is loaded
    already."""
    if "ssl" in sys.modules or "asyncio" in sys.modules:
        return False
    sys.meta_path.insert(0, _SslFinder())
    return True


def hand_to_asyncio(ssl: ModuleType) -> None:
    """Give ``ssl`` to the asyncio modules that were loaded without it."""
    for name in ASYNCIO_USERS:
        module = sys.modules.get(name)
        if module is not None and getattr(module, "ssl", None) is None:
            module.ssl = ssl  # type: ignore[attr-defined]
    protocol = sys.modules.get(ASYNCIO_PROTOCOL)
    if protocol is not None and getattr(protocol, "ssl", None) is None:
        importlib.reload(protocol)


class _SslFinder(importlib.abc.MetaPathFinder):
    """Finds ``asyncio`` and ``ssl`` with the other finders, once each, and wraps their
    loaders: asyncio runs with ``ssl`` hidden, ``ssl`` is handed to asyncio once loaded."""

    def __init__(self) -> None:
        self._waiting = {"asyncio", "ssl"}

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in self._waiting:
            return None
        self._waiting.discard(fullname)  # the search below must not come back here for it
        if not self._waiting:
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        spec.loader = _WrappedLoader(spec.loader, fullname)
        return spec


class _WrappedLoader(importlib.abc.Loader):
    """Runs the real loader of ``asyncio`` with ``ssl`` hidden, or of ``ssl`` and then hands
    the module to asyncio."""

    def __init__(self, inner: importlib.abc.Loader, name: str) -> None:
        self._inner = inner
        self._name = name

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._inner  # tracebacks and ``inspect`` read its source as usual
        if self._name == "ssl":
            self._inner.exec_module(module)
            hand_to_asyncio(module)
            return
        hide = "ssl" not in sys.modules
        if hide:
            sys.modules["ssl"] = None  # type: ignore[assignment]  # ``import ssl`` fails
        try:
            self._inner.exec_module(module)
        finally:
            if hide:
                del sys.modules["ssl"]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
