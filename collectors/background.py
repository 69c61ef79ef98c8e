"""Provides BackgroundLoop: an asyncio loop in a thread of its own, for requests that may
outlive the poll that started them; the thread ends by itself once nothing is in flight."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
_WATCH = "background-loop-idle-watch"
"""Name of the task that ends the loop when nothing is in flight (close leaves it be)."""


class BackgroundLoop:
    """Runs coroutines on a private event loop in a daemon thread.

    ``submit`` (from any thread) and ``spawn`` (from the loop) count what is in flight; when
    the count falls to zero the loop stops and its thread ends, so an idle collector holds no
    thread. The next ``submit`` starts a new one.
    """

    def __init__(self, name: str) -> None:
        """Args:
        name: the thread's name.
        """
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._busy = 0
        self._idle = asyncio.Event()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the loop, starting the loop's thread when none runs."""
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                self._idle = asyncio.Event()
                self._thread = threading.Thread(
                    target=self._run, args=(self._loop, self._idle), name=self._name, daemon=True
                )
                self._thread.start()
            self._busy += 1
            loop = self._loop
        return asyncio.run_coroutine_threadsafe(self._counted(coro), loop)

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Start ``coro`` as a task of the loop; call from the loop's own thread. The loop
        keeps running until the task ends, even when the coroutine that spawned it ended; its
        result or exception stays in the task for whoever asks."""
        with self._lock:
            self._busy += 1
        task = asyncio.get_running_loop().create_task(self._counted(coro))
        # Its outcome is read when its owner gets to it, maybe never (a poll that ended early):
        # mark the exception seen, so asyncio does not log it as lost.
        task.add_done_callback(_seen)
        return task

    async def _counted(self, coro: Coroutine[Any, Any, T]) -> T:
        try:
            return await coro
        finally:
            with self._lock:
                self._busy -= 1
                if self._busy == 0 and self._loop is not None:
                    # Nothing in flight: this loop ends; a submit after this starts a new one.
                    self._loop = None
                    self._idle.set()

    def close(self, timeout: float = 2.0) -> None:
        """Cancel what is in flight and wait for the thread to end."""
        with self._lock:
            loop, thread = self._loop, self._thread
        if loop is not None:
            loop.call_soon_threadsafe(_cancel_all, loop)
        if thread is not None:
            thread.join(timeout)

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop, idle: asyncio.Event) -> None:
        async def until_idle() -> None:
            await idle.wait()
            # Let the last task's done callbacks (which hand its result to the submitter)
            # run before the loop closes.
            for _ in range(3):
                await asyncio.sleep(0)

        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(loop.create_task(until_idle(), name=_WATCH))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def _seen(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    for task in asyncio.all_tasks(loop):
        if task.get_name() != _WATCH:
            task.cancel()
