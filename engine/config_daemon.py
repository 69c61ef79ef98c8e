"""Provides the ``[daemon]`` table beyond its socket: the TCP address other machines' screens
attach on, the token they must give, and the name the daemon's host goes by."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.exporters.config import Address, _address

if TYPE_CHECKING:
    from engine.config_reader import Reader

KNOWN = frozenset({"socket", "listen", "token", "token_env", "name"})
"""The keys of ``[daemon]``."""
TOKEN_HEADER = "Authorization"
"""The header a client gives the token in, as ``Bearer <token>``."""


@dataclass(frozen=True, slots=True)
class DaemonConfig:
    """Where the daemon listens besides its socket, and how it is named."""

    listen: Address | None = None
    """``[daemon] listen``: a TCP address to serve screens on; None (the default) for none."""
    token: str | None = field(default=None, repr=False)
    """The secret a client must give over TCP; kept out of repr so it never lands in a log."""
    token_env: str | None = None
    """Name of the environment variable holding the token."""
    name: str | None = None
    """What the screens attached to it call its host (default: the host name)."""

    def resolve_token(self) -> str | None:
        """Return the token, from the file or from the environment."""
        if self.token:
            return self.token
        return os.environ.get(self.token_env) or None if self.token_env else None


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read(reader: Reader, table: dict[str, Any]) -> DaemonConfig:
    """Read ``[daemon]`` (its ``socket`` is read with the rest of the configuration).

    Raises:
        ConfigError: a key is unknown or wrong, or an address other machines can reach has
            no token (anyone who reaches the port could read the metrics and strike the gong).
    """
    reader.unknown(table, "daemon", set(KNOWN))
    listen = None
    if "listen" in table:
        listen = _address(reader, table, "daemon", "listen", "", {"http"})
    token = reader.get(table, "daemon", "token", str, "") or None
    token_env = reader.get(table, "daemon", "token_env", str, "") or None
    name = reader.get(table, "daemon", "name", str, "").strip() or None
    if "token" in table and token is None:
        raise reader.fail("daemon.token", "must not be empty")
    config = DaemonConfig(listen, token, token_env, name)
    if listen is not None and not is_loopback(listen.host) and not (token or token_env):
        raise reader.fail(
            "daemon.listen",
            f"{listen.host} is reachable from other machines: set token or token_env too",
        )
    return config
