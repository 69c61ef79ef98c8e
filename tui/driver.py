"""Provides ``QuietLinuxDriver``: Textual's terminal driver, whose input thread sleeps until a
key comes instead of waking ten times a second.

Textual's input thread waits for the terminal with a timeout of a tenth of a second, so that it
notices when the app stops and can tell a lone Escape from the start of a key's sequence once
``ESCDELAY`` passed. Those ten wakes a second cost about half a millisecond of CPU a second,
whether a key comes or not. Here the thread waits without a timeout while no key came lately,
and is woken through a pipe when the app stops; after a key it ticks as Textual's does, for
long enough to let a lone Escape through. It reads the keys with Textual's own parser, as
Textual's driver does.
"""

from __future__ import annotations

import os
import selectors
import threading
import time
from codecs import getincrementaldecoder
from typing import TYPE_CHECKING, Any

from textual import constants
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

if TYPE_CHECKING:
    from textual.app import App

TICK = 0.1
"""Seconds between the parser's ticks after a key, as Textual's input thread."""
AWAKE_AFTER_KEY = max(1.0, 5 * constants.ESCAPE_DELAY)
"""Seconds the thread keeps ticking after the last key: far more than the parser waits for the
rest of a sequence."""


class _WakingEvent(threading.Event):
    """An Event that also writes to a pipe when set, to wake a thread waiting in ``select``."""

    def __init__(self, wake_fd: int) -> None:
        super().__init__()
        self.wake_fd = wake_fd
        """The pipe's end to write to; -1 once closed."""

    def set(self) -> None:
        super().set()
        if self.wake_fd >= 0:
            os.write(self.wake_fd, b"x")


class QuietLinuxDriver(LinuxDriver):
    """Textual's Linux driver with an input thread that sleeps while no key comes."""

    def __init__(self, app: App[Any], **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_write, False)  # a full pipe already wakes the thread
        self.exit_event: _WakingEvent = _WakingEvent(self._wake_write)

    def run_input_thread(self) -> None:
        """Wait for input and dispatch its events, as Textual's driver does."""
        selector = selectors.SelectSelector()  # as Textual's: any number of descriptors
        selector.register(self.fileno, selectors.EVENT_READ)
        selector.register(self._wake_read, selectors.EVENT_READ)
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        last_key = -AWAKE_AFTER_KEY  # no key yet: sleep from the start
        try:
            while not self.exit_event.is_set():
                idle = time.monotonic() - last_key > AWAKE_AFTER_KEY
                ready = {key.fd for key, _ in selector.select(None if idle else TICK)}
                if self._wake_read in ready:
                    os.read(self._wake_read, 512)
                if self.fileno in ready:
                    last_key = time.monotonic()
                    data = decode(os.read(self.fileno, 1024 * 4))
                    for event in parser.feed(data) if data else ():
                        self.process_message(event)
                for event in parser.tick():
                    self.process_message(event)
        finally:
            selector.close()

    def close(self) -> None:
        """Clean up, and close the pipe that wakes the input thread (once the app is done with
        the terminal: the thread was joined when input was disabled)."""
        super().close()
        if self._wake_read >= 0:
            self.exit_event.wake_fd = -1
            os.close(self._wake_read)
            os.close(self._wake_write)
            self._wake_read = self._wake_write = -1
