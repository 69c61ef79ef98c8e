"""Provides ``open_view``: the engine a screen shows (a daemon's, or one in this process),
found and started before the screen is built, so its first readings come while the screen
loads."""

from __future__ import annotations

from engine.config import Config
from engine.paths import socket_path
from engine.runtime import Runtime
from engine.view import EngineView


def open_view(config: Config, attach_only: bool = False) -> EngineView | None:
    """Return the engine to show, started.

    Args:
        config: the configuration.
        attach_only: never run an engine in this process.

    Returns:
        The daemon's engine when one answers on the configured socket; else an engine in this
        process, with the history file a daemon would keep (so charts have days); None when
        ``attach_only`` found no daemon.
    """
    socket = socket_path(config)
    if socket.exists():
        # The client brings httpx: loaded only when a daemon may be there to attach to.
        from engine.client import RemoteEngineView

        remote = RemoteEngineView.attach(socket, config)
        if remote is not None:
            remote.start()
            return remote
    if attach_only:
        return None
    runtime = Runtime(config, history=True)
    runtime.start()
    return runtime
