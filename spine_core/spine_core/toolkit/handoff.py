"""Settlements handed from the engine's workers to the thread that owns the client.

Some clients may be used from one thread only: pika's connection lives on its I/O
loop, an asyncio client (nats-py) on its event loop, a blocking client on a thread
of the plugin's own. The engine settles messages on its workers, so the port's
``settled`` hands each settlement to a :class:`Handoff` (under the engine's lock);
the hand-off queues it and wakes the owner once per batch, not per message; the
owner's thread takes them all and applies them (acks, commits, requeues).

- :class:`ThreadHandoff`: the owner is a plain thread waiting on a condition;
- :class:`LoopHandoff`: the owner is a callback loop (pika's ``add_callback_threadsafe``);
- :class:`AsyncioHandoff`: the owner is an asyncio loop (``loop.call_soon_threadsafe``);
  ``apply`` may be a coroutine function.
"""

from __future__ import annotations

import inspect
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    import asyncio  # a plugin on another client does not load it

log = logging.getLogger("spine.consumer")

T = TypeVar("T")


class Handoff(Generic[T]):
    """Items put by the engine's workers, taken all at once by the owner's thread.

    ``lock`` is the engine's lock (:attr:`Lanes.lock <spine_core.broker.Lanes.lock>`):
    :meth:`put` runs under it (from ``Port.settled``); ``wake`` is called, still under it,
    when the first item of a batch arrives.
    """

    def __init__(self, lock: threading.Lock, wake: Callable[[], object]) -> None:
        self.lock = lock
        self._wake = wake
        self._items: list[T] = []
        self._woken = False

    def put(self, item: T) -> None:
        """Queue ``item``; the first of a batch wakes the owner. The caller holds :attr:`lock`."""
        self._items.append(item)
        if not self._woken:
            self._woken = True
            self._wake()

    def take(self) -> list[T]:
        """The owner's thread: every item queued, oldest first; the next :meth:`put` wakes it again."""
        with self.lock:
            return self.take_locked()

    def take_locked(self) -> list[T]:
        """:meth:`take`, for a caller already holding :attr:`lock`."""
        items, self._items = self._items, []
        self._woken = False
        return items

    def put_back(self, items: list[T]) -> None:
        """The owner's thread: ``items`` could not be applied (e.g. the connection broke); keep
        them, before anything queued since, for its next :meth:`take`. Does not wake it."""
        with self.lock:
            self._items[:0] = items


class ThreadHandoff(Handoff[T]):
    """For an owner that is a thread of the plugin's own: it calls :meth:`wait` in its loop."""

    def __init__(self, lock: threading.Lock) -> None:
        self._cond = threading.Condition(lock)
        super().__init__(lock, self._cond.notify)
        self.closed = False

    def wait(self, timeout: float) -> list[T]:
        """Wait up to ``timeout`` seconds for items (or :meth:`close`), then take them all."""
        with self._cond:
            self._cond.wait_for(lambda: bool(self._items) or self.closed, timeout)
            return self.take_locked()

    def close(self) -> None:
        """Wake the owner for good: :meth:`wait` returns at once from now on."""
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class LoopHandoff(Handoff[T]):
    """For an owner that runs callbacks: ``call_soon(callback)`` runs ``callback`` on the owner's
    thread (pika: ``IOLoop.add_callback_threadsafe``); there each batch is taken and given to
    ``apply``. An exception of ``apply`` is logged: the client redelivers what was not settled."""

    def __init__(self, lock: threading.Lock, call_soon: Callable[[Callable[[], None]], object],
                 apply: Callable[[list[T]], object]) -> None:
        super().__init__(lock, lambda: call_soon(self._run))
        self._apply = apply

    def _run(self) -> None:
        items = self.take()
        try:
            self._apply(items)
        except Exception:
            log.exception("applying %d settlement(s) failed; the broker redelivers them", len(items))


class AsyncioHandoff(Handoff[T]):
    """For an owner that is an asyncio event loop (running on another thread than the workers).

    Batches are applied in order by one task on ``loop``: ``apply(items)`` may return an
    awaitable (``async def``), which is awaited before the next batch is taken. Once the loop
    is closed, items stay queued: the client redelivers what it never settled.
    """

    def __init__(self, lock: threading.Lock, loop: asyncio.AbstractEventLoop,
                 apply: Callable[[list[T]], Awaitable[Any] | None]) -> None:
        super().__init__(lock, self._schedule)
        self._loop = loop
        self._apply = apply
        self._task: asyncio.Task[None] | None = None

    def _schedule(self) -> None:
        try:
            self._loop.call_soon_threadsafe(self._start)
        except RuntimeError:  # the loop is closed
            pass

    def _start(self) -> None:
        """On the loop: start the applying task, unless it runs (it takes the new items itself)."""
        if self._task is None or self._task.done():
            self._task = self._loop.create_task(self._run())

    async def _run(self) -> None:
        while items := self.take():
            try:
                result = self._apply(items)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("applying %d settlement(s) failed; the broker redelivers them", len(items))
