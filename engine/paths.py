"""Provides the runtime directory of gongwatch: where the daemon's socket and the port locks
live, private to the user (0700)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.config import Config


def runtime_dir() -> Path:
    """Return ``$XDG_RUNTIME_DIR/gongwatch``, else a per-user folder in the temp directory."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    if base:
        return Path(base) / "gongwatch"
    return Path(tempfile.gettempdir()) / f"gongwatch-{os.getuid()}"


def default_socket() -> Path:
    """Return the daemon's socket when ``[daemon] socket`` is not set."""
    return runtime_dir() / "gongwatch.sock"


def private_dir(path: Path) -> Path:
    """Create ``path`` (and its parents) if needed, and make it readable by its owner alone.

    Raises:
        OSError: it cannot be created, or belongs to someone else.
    """
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    st = path.stat()
    if st.st_uid != os.getuid():
        raise OSError(f"{path} belongs to another user")
    if st.st_mode & 0o077 and path.parent != path:
        path.chmod(0o700)
    return path


def socket_path(config: Config) -> Path:
    """Return the socket of the daemon of ``config``: ``[daemon] socket``, else the default."""
    return Path(config.daemon_socket).expanduser() if config.daemon_socket else default_socket()
