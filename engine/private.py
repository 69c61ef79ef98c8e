"""Provides what keeps alert lines private: files only their owner may read, and command lines
with their credentials hidden."""

from __future__ import annotations

import os
import re
import stat
from _operator import _compare_digest
from collections.abc import Sequence
from pathlib import Path


def same_secret(given: bytes, expected: bytes) -> bool:
    """Compare a secret given with the one expected in constant time.

    ``hmac.compare_digest`` is this same C function, but importing ``hmac`` loads OpenSSL's
    libcrypto (about 4 MiB) that a daemon or screen never uses otherwise.
    """
    return _compare_digest(given, expected)


def private_folders(folder: Path) -> None:
    """Create ``folder`` and its missing parents for their owner alone (0700); folders that
    exist are left as they are."""
    missing = []
    for f in [folder, *folder.parents]:
        if f.exists():
            break
        missing.append(f)
    for f in reversed(missing):
        f.mkdir(mode=0o700, exist_ok=True)
        f.chmod(0o700)  # the umask may have taken bits off; never add any to others


def append_private(path: Path, text: str) -> None:
    """Append ``text`` to a file only its owner may read (0600), creating it, and the folders
    it needs, for its owner alone (0700): alert lines name metrics, hosts and commands.

    Folders that already exist are left as they are (a log in the home folder is allowed).
    """
    private_folders(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        st = os.fstat(fd)
        # A log an earlier version left readable by others is tightened; anything that is not
        # a plain file of ours (/dev/null, a pipe, a terminal) is written to as it is.
        if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid() and st.st_mode & 0o077:
            os.fchmod(fd, 0o600)
        f.write(text)


_SECRET_NAME = r"--?[\w.-]*(?:key|token|passw(?:or)?d|secret|credential)s?"
_SECRET_FLAG = re.compile(rf"({_SECRET_NAME})", re.IGNORECASE)
_SECRET_ASSIGN = re.compile(rf"({_SECRET_NAME}=).+", re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(://[^/:@\s]+:)[^@/\s]+@")


def redact_argv(argv: Sequence[str]) -> list[str]:
    """Return a command line fit for the log and the screen: the values of arguments that look
    like credentials (``--api-key=...``, ``--token=...``, ``--password X``, the password of a
    URL) become ``***``. The command itself is run with the real ones."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append("***")
            hide_next = False
            continue
        if (m := _SECRET_ASSIGN.fullmatch(arg)) is not None:
            out.append(m.group(1) + "***")
            continue
        hide_next = _SECRET_FLAG.fullmatch(arg) is not None
        out.append(_URL_PASSWORD.sub(r"\1***@", arg))
    return out
