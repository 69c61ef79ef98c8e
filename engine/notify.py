"""Provides the ``notify:<name>`` action: messages to people through apprise (one URL per
target), sent off the collector threads, each target within its own timeout, and a storm of
alerts to one target gathered into one message."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from collectors.remote import RedactingFilter, protect_secret, redact
from engine.config import NotifyTarget

Done = Callable[[str, bool], object]
"""Told how a message went: a few words, and whether it was sent."""
FLUSH_EVERY = 1.0
"""Seconds between checks for grouped messages whose window has passed."""


def shown_url(url: str) -> str:
    """Return a notification URL fit for the screen and the log: its scheme and host only,
    the rest (a password, a token in the path, the query) masked."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if _port(parts) else ""
    user = f"{parts.username}:***@" if parts.password else ""
    rest = "/***" if parts.path.strip("/") or parts.query else ""
    return f"{parts.scheme}://{user}{host}{port}{rest}"


def _port(parts: Any) -> int | None:
    try:
        return parts.port  # type: ignore[no-any-return]
    except ValueError:
        return None


def protect_url(url: str) -> None:
    """Register the secret parts of a URL (password, path, query values) for ``redact``."""
    parts = urlsplit(url)
    protect_secret(parts.password)
    for piece in parts.path.split("/"):
        if len(piece) >= 6:
            protect_secret(piece)
    for _k, v in parse_qsl(parts.query):
        if len(v) >= 6:
            protect_secret(v)


def with_timeouts(url: str, timeout: float) -> str:
    """Return ``url`` with apprise's connect and read timeouts (``cto``, ``rto``) set."""
    if "cto=" in url or "rto=" in url:
        return url
    return f"{url}{'&' if '?' in url else '?'}cto={timeout:g}&rto={timeout:g}"


def apprise_send(url: str, title: str, body: str, timeout: float) -> str | None:
    """Send one message to one apprise URL; return why it failed, or None when it was sent."""
    import apprise  # only when a [notify.*] table exists: it is a large import

    sender = apprise.Apprise()
    if not sender.add(with_timeouts(url, timeout)):
        return "not a notification URL apprise knows"
    with apprise.LogCapture(level=logging.WARNING) as log:
        ok = sender.notify(title=title, body=body)
        text = log.getvalue().strip().splitlines()
    if ok:
        return None
    return redact(text[-1] if text else "not sent")[:200]


@dataclass
class _Held:
    """Messages held back for a target during its group window."""

    lines: list[str] = field(default_factory=list)
    dones: list[Done] = field(default_factory=list)


class Notifier:
    """Sends messages to the configured targets, never in the caller's thread."""

    def __init__(
        self,
        targets: dict[str, NotifyTarget],
        *,
        host: str,
        monotonic: Callable[[], float] = time.monotonic,
        send: Callable[[str, str, str, float], str | None] = apprise_send,
        flush_thread: bool = True,
    ) -> None:
        """Args:
        targets: the ``[notify.<name>]`` tables.
        host: this machine's name, which every title carries.
        monotonic: clock for the group windows.
        send: sends one message to one URL (apprise's, unless a test measures something).
        flush_thread: send grouped messages from a thread of its own when their window ends
            (a test with a hand-moved clock calls ``flush`` instead).
        """
        self.targets, self.host = targets, host
        self._monotonic, self._send = monotonic, send
        self._lock = threading.Lock()
        self._last: dict[str, float] = {}
        self._held: dict[str, _Held] = {}
        # One pool per target: a target that hangs holds only its own threads.
        self._pools = {
            n: ThreadPoolExecutor(max_workers=max(2, len(t.urls)), thread_name_prefix=f"notify-{n}")
            for n, t in targets.items()
        }
        for t in targets.values():
            for url in t.urls:
                protect_url(url)
        logging.getLogger("apprise").addFilter(RedactingFilter())
        self._stop = threading.Event()
        if flush_thread and targets:
            threading.Thread(target=self._flusher, name="notify-flush", daemon=True).start()

    def send(self, target: str, title: str, body: str, done: Done) -> None:
        """Send a message now, or hold it for one grouped message if the target had one within
        its group window."""
        t = self.targets[target]
        with self._lock:
            now = self._monotonic()
            last = self._last.get(target)
            if t.group > 0 and last is not None and now - last < t.group:
                held = self._held.setdefault(target, _Held())
                held.lines.append(title)
                held.dones.append(done)
                return
            self._last[target] = now
        self._dispatch(t, title, body, [done])

    def flush(self) -> None:
        """Send every held group whose window has passed."""
        ready = []
        with self._lock:
            now = self._monotonic()
            for name in list(self._held):
                if now - self._last.get(name, 0.0) >= self.targets[name].group:
                    ready.append((name, self._held.pop(name)))
                    self._last[name] = now
        for name, held in ready:
            count = len(held.lines)
            title = f"gongwatch on {self.host}: {count} more alert{'s' * (count != 1)}"
            self._dispatch(self.targets[name], title, "\n".join(held.lines), held.dones)

    def close(self) -> None:
        """Stop the flusher and start no more sends."""
        self._stop.set()
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)

    def _flusher(self) -> None:
        while not self._stop.wait(FLUSH_EVERY):
            self.flush()

    def _dispatch(self, t: NotifyTarget, title: str, body: str, dones: list[Done]) -> None:
        once = _Once(dones)
        results: list[str | None] = []
        for url in t.urls:
            try:
                self._pools[t.name].submit(self._one, t, url, title, body, once, results)
            except RuntimeError:  # closing: the pool takes no more work
                once("not sent: gongwatch is stopping", False)
        # The send may hang beyond apprise's own timeouts (DNS, a TLS handshake): the record
        # says so after the target's timeout, whatever the thread is still doing.
        timer = threading.Timer(t.timeout + 0.5, once, (f"no answer within {t.timeout:g} s", False))
        timer.daemon = True
        timer.start()
        once.timer = timer

    def _one(
        self, t: NotifyTarget, url: str, title: str, body: str, once: _Once, results: list[Any]
    ) -> None:
        try:
            err = self._send(url, title, body, t.timeout)
        except Exception as exc:  # a plugin's bug must not lose the record: say what it was
            err = redact(f"{type(exc).__name__}: {exc}")[:200]
        results.append(err if err is None else f"{shown_url(url)}: {err}")
        if len(results) == len(t.urls):
            failed = [r for r in results if r is not None]
            if failed:
                once("; ".join(failed), False)
            else:
                once(f"sent to {len(t.urls)} URL{'s' * (len(t.urls) != 1)}", True)


class _Once:
    """Tells every ``Done`` of a message once: the first outcome wins (sent, or timed out)."""

    def __init__(self, dones: list[Done]) -> None:
        self.dones = dones
        self.timer: threading.Timer | None = None
        self._told = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, result: str, ok: bool) -> None:
        with self._lock:
            if self._told.is_set():
                return
            self._told.set()
        if self.timer is not None:
            self.timer.cancel()
        for done in self.dones:
            done(result, ok)
