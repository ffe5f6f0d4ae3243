"""The settlement hand-off: workers put under the engine's lock, the owner is woken once per batch
and takes everything, on a plain thread, a callback loop or an asyncio loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from spine_core.broker import AsyncioHandoff, Handoff, LoopHandoff, ThreadHandoff

DEADLINE = 10.0


def test_the_owner_is_woken_once_per_batch() -> None:
    """Items put before the owner took them wake it once; after its take, the next put wakes it again."""
    lock = threading.Lock()
    wakes: list[int] = []
    handoff: Handoff[int] = Handoff(lock, lambda: wakes.append(1))
    with lock:
        for n in range(5):
            handoff.put(n)
    assert len(wakes) == 1
    assert handoff.take() == [0, 1, 2, 3, 4]
    assert handoff.take() == []
    with lock:
        handoff.put(5)
    assert len(wakes) == 2


def test_items_put_back_come_first_without_a_wake() -> None:
    """What the owner could not apply is kept before what came since, and wakes nobody."""
    lock = threading.Lock()
    wakes: list[int] = []
    handoff: Handoff[str] = Handoff(lock, lambda: wakes.append(1))
    with lock:
        handoff.put("a")
    taken = handoff.take()
    with lock:
        handoff.put("b")
    handoff.put_back(taken)
    assert handoff.take() == ["a", "b"] and len(wakes) == 2


def put_from_workers(handoff: Handoff[int], workers: int, each: int) -> None:
    """``workers`` threads put ``each`` numbers apiece, under the lock as ``Port.settled`` does."""
    def work(first: int) -> None:
        for n in range(first, first + each):
            with handoff.lock:
                handoff.put(n)

    threads = [threading.Thread(target=work, args=(w * each,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(DEADLINE)


def test_a_thread_owner_gets_every_item_once() -> None:
    """An owner thread waiting on the hand-off takes every worker's items exactly once, then is closed."""
    handoff: ThreadHandoff[int] = ThreadHandoff(threading.Lock())
    got: list[int] = []
    all_there = threading.Event()

    def own() -> None:
        while not handoff.closed:
            got.extend(handoff.wait(DEADLINE))
            if len(got) >= 2000:
                all_there.set()

    owner = threading.Thread(target=own)
    owner.start()
    put_from_workers(handoff, workers=4, each=500)
    assert all_there.wait(DEADLINE), f"took {len(got)} of 2000"
    handoff.close()
    owner.join(DEADLINE)
    assert not owner.is_alive()
    assert sorted(got) == list(range(2000))


def test_wait_returns_after_its_timeout_with_nothing() -> None:
    """With nothing put, ``wait`` returns an empty batch once its timeout passed (the owner's tick)."""
    handoff: ThreadHandoff[int] = ThreadHandoff(threading.Lock())
    started = time.monotonic()
    assert handoff.wait(0.05) == []
    assert time.monotonic() - started >= 0.05


class CallbackLoop:
    """A callback loop on its own thread, like pika's IOLoop: ``add_callback_threadsafe`` queues a callback."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._callbacks: list[Callable[[], None]] = []
        self._stopped = False
        self.thread = threading.Thread(target=self._run)
        self.thread.start()

    def add_callback_threadsafe(self, callback: Callable[[], None]) -> None:
        with self._cond:
            self._callbacks.append(callback)
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._callbacks or self._stopped)
                if self._stopped:
                    return
                callbacks, self._callbacks = self._callbacks, []
            for callback in callbacks:
                callback()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        self.thread.join(DEADLINE)


def test_a_callback_loop_applies_every_item_on_its_thread() -> None:
    """Each batch is applied on the loop's own thread, every item once."""
    loop = CallbackLoop()
    applied: list[int] = []
    threads: set[threading.Thread] = set()
    done = threading.Event()

    def apply(items: list[int]) -> None:
        threads.add(threading.current_thread())
        applied.extend(items)
        if len(applied) >= 2000:
            done.set()

    handoff: LoopHandoff[int] = LoopHandoff(threading.Lock(), loop.add_callback_threadsafe, apply)
    try:
        put_from_workers(handoff, workers=4, each=500)
        assert done.wait(DEADLINE)
    finally:
        loop.stop()
    assert sorted(applied) == list(range(2000))
    assert threads == {loop.thread}


@pytest.fixture
def event_loop_thread() -> Iterator[asyncio.AbstractEventLoop]:
    """A real asyncio loop running on a thread of its own, as an asyncio client's would."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever)
    thread.start()
    yield loop
    loop.call_soon_threadsafe(loop.stop)
    thread.join(DEADLINE)
    loop.close()


def test_an_asyncio_loop_applies_batches_in_order_with_a_coroutine(
    event_loop_thread: asyncio.AbstractEventLoop
) -> None:
    """An ``async def`` apply runs on the loop, one batch after the other (never two at once), and
    sees every item once, in the order each worker put them."""
    loop = event_loop_thread
    applied: list[int] = []
    running = 0
    overlapped = False
    done = threading.Event()
    on_loop: list[bool] = []

    async def apply(items: list[int]) -> None:
        nonlocal running, overlapped
        on_loop.append(asyncio.get_running_loop() is loop)
        running += 1
        overlapped = overlapped or running > 1
        await asyncio.sleep(0.001)  # an ack that awaits its write
        applied.extend(items)
        running -= 1
        if len(applied) >= 2000:
            done.set()

    handoff: AsyncioHandoff[int] = AsyncioHandoff(threading.Lock(), loop, apply)
    put_from_workers(handoff, workers=4, each=500)
    assert done.wait(DEADLINE), f"applied {len(applied)} of 2000"
    assert sorted(applied) == list(range(2000))
    for w in range(4):
        mine = [n for n in applied if w * 500 <= n < (w + 1) * 500]
        assert mine == sorted(mine)
    assert all(on_loop) and not overlapped
    assert len(on_loop) < 2000  # woken per batch, not per item


def test_an_asyncio_loop_takes_a_plain_function_and_survives_an_error(
    event_loop_thread: asyncio.AbstractEventLoop
) -> None:
    """A plain function works as apply; a batch whose apply raised is logged and later batches go on."""
    loop = event_loop_thread
    applied: list[int] = []
    failed: list[int] = []
    arrived = threading.Condition()

    def apply(items: list[int]) -> None:
        with arrived:
            arrived.notify_all()
            if 0 in items:
                failed.extend(items)
                raise RuntimeError("connection closed")
            applied.extend(items)

    handoff: AsyncioHandoff[int] = AsyncioHandoff(threading.Lock(), loop, apply)
    with handoff.lock:
        handoff.put(0)
    with arrived:
        assert arrived.wait_for(lambda: failed == [0], DEADLINE)
    with handoff.lock:
        handoff.put(1)
    with arrived:
        assert arrived.wait_for(lambda: applied == [1], DEADLINE)


def test_after_the_loop_closed_items_stay_queued() -> None:
    """Putting after the asyncio loop closed raises nothing in the worker: the client redelivers."""
    loop = asyncio.new_event_loop()
    loop.close()
    handoff: AsyncioHandoff[int] = AsyncioHandoff(threading.Lock(), loop, lambda items: None)
    with handoff.lock:
        handoff.put(1)
    assert handoff.take() == [1]
