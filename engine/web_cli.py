"""Provides ``gongwatch web``: its arguments, the checks on where it may listen, and the
command each browser tab runs."""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys

from engine.config_daemon import is_loopback

DEFAULT_PORT = 8765
"""The port ``gongwatch web`` listens on when none is given."""
DEFAULT_HOST = "127.0.0.1"
WEB_ENTRY = "tui.web"
"""The module whose ``serve(host, port, token, command)`` serves the screen to browsers."""


def port_number(text: str) -> int:
    """Parse a TCP port for argparse: an integer from 1 to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 1-65535")
    return port


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``gongwatch web`` to its subparser."""
    parser.add_argument(
        "--port", type=port_number, default=DEFAULT_PORT,
        help=f"TCP port to listen on (default {DEFAULT_PORT})",
    )  # fmt: skip
    parser.add_argument(
        "--host", default=DEFAULT_HOST,
        help="address to listen on (default 127.0.0.1); any other needs --token",
    )  # fmt: skip
    parser.add_argument(
        "--token", default=None,
        help="secret the browser must give (?token=... on the first page) before it is served",
    )  # fmt: skip


def check_listen(host: str, token: str | None) -> str | None:
    """Return why ``gongwatch web`` may not listen on ``host``, or None when it may.

    Anyone who reaches the port sees the monitor and can press its keys, so an address other
    machines can reach is only served behind a token.
    """
    if token is not None and not token.strip():
        return "--token must not be empty"
    if not is_loopback(host) and token is None:
        return f"refusing to listen on {host} without --token: other machines could reach it"
    return None


def app_command(config_path: str | None) -> str:
    """Return the shell command each browser tab runs: the screen, attached to the daemon only.

    ``exec`` makes the screen the process the server started, so stopping it stops the screen.
    """
    words = [sys.executable, "-m", "engine.cli"]
    if config_path is not None:
        words += ["--config", os.path.abspath(config_path)]
    words += ["run", "--attach-only"]
    return "exec " + shlex.join(words)


def cmd_web(args: argparse.Namespace) -> int:
    """Serve the screen to browsers until SIGTERM or Ctrl+C; return the exit status."""
    reason = check_listen(args.host, args.token)
    if reason is not None:
        print(f"gongwatch: {reason}", file=sys.stderr)
        return 2
    command = app_command(getattr(args, "config", None))
    importlib.import_module(WEB_ENTRY).serve(args.host, args.port, args.token, command)
    return 0
