"""Tests the monitor's terminal driver on a real pseudo terminal: its input thread sleeps while
no key comes, still tells a lone Escape from a key's sequence, and stops when told to."""

from __future__ import annotations

import asyncio
import os
import selectors
import threading
import tty
from collections.abc import Callable, Iterator
from typing import ClassVar

import pytest
from textual import events
from textual.app import App
from textual.message import Message

from tui.driver import QuietLinuxDriver


class CountedSelector(selectors.SelectSelector):
    """Textual's selector, noting the timeout of each wait."""

    waits: ClassVar[list[float | None]] = []

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        CountedSelector.waits.append(timeout)
        return super().select(timeout)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, int]]:
    monkeypatch.setattr(selectors, "SelectSelector", CountedSelector)
    CountedSelector.waits = []
    master, slave = os.openpty()
    tty.setraw(slave)  # as the app sets its terminal: keys come one by one
    yield master, slave
    os.close(master)
    os.close(slave)


async def until(check: Callable[[], object], limit: float = 5.0) -> None:
    for _ in range(int(limit / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)


async def test_the_input_thread_sleeps_until_a_key_and_a_lone_escape_still_comes(
    terminal: tuple[int, int],
) -> None:
    master, slave = terminal
    driver = QuietLinuxDriver(App())  # the driver needs the loop the app would run on
    driver.fileno = slave
    got: list[Message] = []
    driver.process_message = got.append  # type: ignore[method-assign,assignment]
    thread = threading.Thread(target=driver.run_input_thread, daemon=True)
    thread.start()
    try:
        await until(lambda: CountedSelector.waits)
        await asyncio.sleep(0.5)  # Textual's thread would have woken five times by now
        assert CountedSelector.waits == [None]
        os.write(master, b"a\x1b")
        await until(lambda: any(isinstance(m, events.Key) and m.key == "escape" for m in got))
        keys = [m.key for m in got if isinstance(m, events.Key)]
        assert keys == ["a", "escape"]
    finally:
        driver.exit_event.set()
        thread.join(5)
        driver.close()
    assert not thread.is_alive()  # woken by the pipe, not by a timeout it no longer has
