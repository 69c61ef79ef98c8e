"""Provides ``gongwatch daemon``: the engine, its alert rules and its devices with no screen,
served on a Unix socket; SIGHUP reloads the configuration, SIGTERM and SIGINT stop it."""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from engine.config import Config, ConfigError
from engine.config_reader import default_path, parse
from engine.daemon.server import Server
from engine.paths import private_dir, socket_path
from engine.runtime import Runtime

log = logging.getLogger("gongwatch")

EVENT_POLL = 1.0
"""Seconds between looks at the engine's events, to write them to the log."""
MEMORY = 60
"""Points the daemon keeps in memory per metric. An attached screen keeps its own recent
points and asks for the rest once, which the history file answers: 600 points a metric in
memory would be 5 MiB at 500 metrics, for nobody."""


def read_config(path: str | None) -> tuple[Config, str, str]:
    """Return the configuration, where it came from, and its text.

    Raises:
        ConfigError: the file is missing, unreadable or wrong.
    """
    file = Path(path) if path else default_path()
    if path is None and not file.is_file():
        return Config(), "<defaults>", ""
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(file), "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(file), "", f"cannot read: {exc}") from None
    return parse(text, str(file)), str(file), text


def setup_log(file: str | None) -> None:
    """Send the log to stderr, or to ``file`` (appended), one readable line per record."""
    handler: logging.Handler = (
        logging.FileHandler(file, encoding="utf-8") if file else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    log.propagate = False


class AlreadyRunning(Exception):
    """Another daemon holds the socket."""


def claim_socket(path: Path) -> int:
    """Take the lock beside the socket, so one daemon alone serves it; return its descriptor.

    Raises:
        AlreadyRunning: another daemon holds it (the message says which pid).
        OSError: the socket's folder cannot be made private.
    """
    private_dir(path.parent)
    lock = path.with_name(path.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        pid = os.read(fd, 32).decode(errors="replace").strip()
        os.close(fd)
        raise AlreadyRunning(f"a daemon already runs on {path} (pid {pid or '?'})") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    # A socket file left by a daemon that was killed: nobody listens on it, the lock says so.
    path.unlink(missing_ok=True)
    return fd


class Daemon:
    """One daemon's life: claim the socket, run the runtime, serve, reload, stop."""

    def __init__(self, config_arg: str | None, config: Config, source: str, text: str):
        self.config_arg, self.source = config_arg, source
        self.socket = socket_path(config)
        self.started = time.time()
        self.runtime = Runtime(config, history=True, memory=MEMORY)
        self.server = Server(
            self.runtime, self.socket, started=self.started, source=source, daemon=config.daemon
        )
        self.server.config_text = text
        self._stop = asyncio.Event()
        self._seen = 0

    async def run(self) -> None:
        """Serve until SIGTERM or SIGINT."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reload()))
        self.runtime.add_alert_listener(_log_alert)
        self.runtime.start()
        await self.server.start()
        await self._start_tcp()
        self._log_start()
        # One task waits for the stop the whole time: each second costs a timer, not a new
        # task and its cancellation.
        stopping = asyncio.ensure_future(self._stop.wait())
        while not stopping.done():
            self._log_events()
            await asyncio.wait((stopping,), timeout=EVENT_POLL)
        log.info("stopping")
        await self.server.close()
        await asyncio.to_thread(self.runtime.stop)
        self._log_events()

    async def _start_tcp(self) -> None:
        listen = self.server.daemon.listen
        try:
            await self.server.start_tcp()
        except OSError as exc:
            # The server's own text repeats the address; the system's words say it once.
            why = os.strerror(exc.errno) if exc.errno else str(exc)
            log.error("cannot listen on %s: %s; serving on the socket only", listen, why)
            return
        if self.server.address is not None:
            host, port = self.server.address
            guard = "with a token" if self.server.daemon.resolve_token() else "no token"
            log.info("screens attach on http://%s:%d (%s) as %s", host, port, guard,
                     self.server.name)  # fmt: skip

    def _log_start(self) -> None:
        from engine.sources import config_warnings

        for line in config_warnings(self.runtime.config):
            log.warning("%s", line)
        names = ", ".join(c.name for c in self.runtime.engine.collectors) or "none"
        log.info("gongwatch daemon pid %d on %s (config %s)", os.getpid(), self.socket, self.source)
        log.info("sources: %s; %d alert rules", names, len(self.runtime.config.alerts))
        for name, note in self.runtime.notes.items():
            log.warning("%s: %s", name, note)

    def _log_events(self) -> None:
        for event in self.runtime.events_since(self._seen):
            level = {"error": logging.ERROR, "warning": logging.WARNING}.get(event.level, 20)
            log.log(level, "%s: %s", event.source, event.text)
            self._seen = event.seq

    async def reload(self) -> None:
        """Read the configuration again; a bad one leaves the running one as it is."""
        try:
            config, source, text = read_config(self.config_arg)
        except ConfigError as exc:
            log.error("reload failed, keeping the running configuration: %s", exc)
            return
        if socket_path(config) != self.socket or config.daemon != self.server.daemon:
            log.warning("[daemon] changed: it takes effect when the daemon restarts")
        await asyncio.to_thread(self.runtime.reconfigure, config)  # listeners carry over
        self.server.config_text, self.server.source = text, source
        log.info("reloaded %s", source)


def _log_alert(record: object) -> None:
    result = getattr(record, "result", None)
    if result is None:
        return  # logged once, when it is finished
    r = record
    log.info("alert %s %s (%s): %s -> %s", r.action, r.key, r.severity, r.detail, result)  # type: ignore[attr-defined]


def run_daemon(config_arg: str | None, log_file: str | None) -> int:
    """Run the daemon in the foreground until a signal stops it; return the exit status.

    Returns:
        0 after a clean stop, 1 when another daemon has the socket or the socket cannot be
        made, 2 when the configuration is wrong.
    """
    try:
        setup_log(log_file)
    except OSError as exc:
        print(f"gongwatch: cannot write the log {log_file}: {exc.strerror}", file=sys.stderr)
        return 1
    try:
        config, source, text = read_config(config_arg)
    except ConfigError as exc:
        print(f"gongwatch: {exc}", file=sys.stderr)
        return 2
    try:
        lock = claim_socket(socket_path(config))
    except AlreadyRunning as exc:
        print(f"gongwatch: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"gongwatch: cannot use {socket_path(config)}: {exc}", file=sys.stderr)
        return 1
    try:
        asyncio.run(Daemon(config_arg, config, source, text).run())
    finally:
        os.close(lock)
    left = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    if left:
        log.warning("stopped, but threads still run: %s", ", ".join(sorted(left)))
    else:
        log.info("stopped cleanly: no thread left")
    return 0
