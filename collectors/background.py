"""Provides BackgroundLoop: an asyncio loop in a thread of its own, shared by the requests of
many sources; the thread ends by itself once nothing is in flight."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Callable, Coroutine, Iterable
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")
_WATCH = "background-loop-idle-watch"
"""Name of the task that ends the loop when nothing is in flight."""

log = logging.getLogger(__name__)


class _Run:
    """One life of the loop: from the first submit to the moment nothing is left."""

    __slots__ = ("idle", "loop", "resources", "thread")

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.idle = asyncio.Event()
        self.resources: dict[str, Any] = {}
        """Objects made on this loop for whoever asks (HTTP clients, an executor), closed
        when it ends."""
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)

    def _main(self) -> None:
        async def until_idle() -> None:
            await self.idle.wait()
            # Let the last task's done callbacks (which hand its result to the submitter)
            # run before the loop closes.
            for _ in range(3):
                await asyncio.sleep(0)
            await _close_all(self.resources)

        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.loop.create_task(until_idle(), name=_WATCH))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        finally:
            self.loop.close()


class BackgroundLoop:
    """Runs coroutines on one event loop in a daemon thread, for every source that uses it.

    ``submit`` (from any thread) and ``spawn`` (from the loop) count what is in flight (a
    source that keeps polling on it is a task that never ends until it is cancelled); when
    the count falls to zero the loop closes what it made (``resource``) and its thread ends,
    so an idle process holds no thread. The next ``submit`` starts a new one.
    """

    def __init__(self, name: str) -> None:
        """Args:
        name: the thread's name.
        """
        self._name = name
        self._lock = threading.Lock()
        self._run: _Run | None = None
        self._last: _Run | None = None
        self._busy = 0

    def _enter(self) -> asyncio.AbstractEventLoop:
        """Count one more user, starting the loop's thread when none runs (hold the lock)."""
        if self._run is None:
            self._run = self._last = _Run(self._name)
            self._run.thread.start()
        self._busy += 1
        return self._run.loop

    def _leave(self) -> None:
        with self._lock:
            self._busy -= 1
            run = self._run
            if self._busy or run is None:
                return
            # Nothing in flight: this loop ends; a submit after this starts a new one.
            self._run = None
        run.loop.call_soon_threadsafe(run.idle.set)

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coro`` on the loop, starting the loop's thread when none runs."""
        with self._lock:
            loop = self._enter()
        result: concurrent.futures.Future[T] = concurrent.futures.Future()

        def start() -> None:
            task = self._task(loop, coro)
            task.add_done_callback(partial(_hand_over, result))
            result.add_done_callback(partial(_cancel_with, loop, task))

        loop.call_soon_threadsafe(start)
        return result

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the loop and wait for its result (from any thread but the loop's).

        Raises:
            TimeoutError: it did not end within ``timeout`` seconds (it is cancelled).
        """
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"not done within {timeout:g} s") from None

    def spawn(self, coro: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Start ``coro`` as a task of the loop; call from the loop's own thread. The loop
        keeps running until the task ends, even when the coroutine that spawned it ended; its
        result or exception stays in the task for whoever asks."""
        with self._lock:
            self._enter()
        task = self._task(asyncio.get_running_loop(), coro)
        # Its outcome is read when its owner gets to it, maybe never (a poll that ended early):
        # mark the exception seen, so asyncio does not log it as lost.
        task.add_done_callback(_seen)
        return task

    def _task(
        self, loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]
    ) -> asyncio.Task[T]:
        """Start ``coro`` as a task counted until it ends, however it ends (even cancelled
        before it began, which skips its ``finally`` blocks)."""
        task = loop.create_task(coro)
        task.add_done_callback(lambda _: self._leave())
        return task

    def resource(self, key: str, make: Callable[[], T]) -> T:
        """Return the object ``key`` of the running loop, made by ``make`` at the first ask;
        call from the loop's thread. It lives as long as the loop: when the loop ends, its
        ``aclose()`` is awaited, or its ``shutdown()`` called."""
        for run in (self._run, self._last):
            if run is not None and run.loop is asyncio.get_running_loop():
                if key not in run.resources:
                    run.resources[key] = make()
                return run.resources[key]  # type: ignore[no-any-return]
        raise RuntimeError("resource() is called on the loop's own thread")

    def cancel(self, tasks: Iterable[asyncio.Future[Any]], timeout: float = 2.0) -> None:
        """Cancel ``tasks`` of the loop and wait for them to end (from any other thread);
        when nothing else keeps the loop, wait for its thread to end too."""
        # Tasks of a loop that has ended since are done already.
        tasks = [t for t in tasks if not t.done()]

        async def end() -> None:
            mine = [t for t in tasks if t.get_loop() is asyncio.get_running_loop()]
            for task in mine:
                task.cancel()
            if mine:
                await asyncio.wait(mine, timeout=timeout)

        if tasks:
            try:
                self.run(end(), timeout + 1.0)
            except TimeoutError:
                log.warning("%s: requests still out after %g s", self._name, timeout)
        self.join(timeout)

    def join(self, timeout: float = 2.0) -> None:
        """Wait for the loop's thread to end, when nothing keeps it running any more."""
        with self._lock:
            last = None if self._run is not None else self._last
        if last is not None and last.thread is not threading.current_thread():
            last.thread.join(timeout)


async def _close_all(resources: dict[str, Any]) -> None:
    """Close what a loop made, whatever it is: a failure to close one spares the others."""
    for key, thing in resources.items():
        try:
            if hasattr(thing, "aclose"):
                await thing.aclose()
            elif hasattr(thing, "shutdown"):
                thing.shutdown(wait=True)
        except Exception:  # closing is best effort at the end of a loop, but never silent
            log.exception("closing the loop's %s", key)
    resources.clear()


def _hand_over(result: concurrent.futures.Future[T], task: asyncio.Task[T]) -> None:
    """Give a submitter the outcome of its task (unless it gave up on it)."""
    if result.done():
        return
    if task.cancelled():
        result.cancel()
    elif (exc := task.exception()) is not None:
        result.set_exception(exc)
    else:
        result.set_result(task.result())


def _cancel_with(
    loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any], result: concurrent.futures.Future[Any]
) -> None:
    """Cancel the task when its submitter cancelled its future (it gave up waiting)."""
    if result.cancelled() and not loop.is_closed():
        loop.call_soon_threadsafe(task.cancel)


def _seen(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()
