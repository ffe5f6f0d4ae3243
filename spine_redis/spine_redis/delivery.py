"""Keyed worker lanes: one key's messages go to one lane and are delivered one at a time in the
order read; other keys run in parallel. (Stand-in until the core's consumer engine lands.)"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import zlib
from collections.abc import Callable

from spine_core.messages import NACK, IncomingMessage, Settlement, Subscription

log = logging.getLogger("spine.redis")

Settle = Callable[[IncomingMessage, Settlement], None]
Work = tuple[Subscription, IncomingMessage]


class Lanes:
    """``workers`` threads; ``settle`` is called with what ``deliver`` returned."""

    def __init__(self, workers: int, settle: Settle, name: str) -> None:
        self._settle = settle
        self._lanes: list[queue.SimpleQueue[Work | None]] = [queue.SimpleQueue() for _ in range(workers)]
        self._unkeyed = itertools.count()
        self._cond = threading.Condition()
        self._stopping = False
        self._in_flight = 0
        self._threads = [threading.Thread(target=self._work, args=(lane,), name=f"{name}-{i}", daemon=True)
                         for i, lane in enumerate(self._lanes)]
        for thread in self._threads:
            thread.start()

    def put(self, subscription: Subscription, message: IncomingMessage) -> None:
        key = message.key
        index = zlib.crc32(key.encode()) if key is not None else next(self._unkeyed)
        self._lanes[index % len(self._lanes)].put((subscription, message))

    def stop(self, deadline: float) -> bool:
        """Start no more deliveries; wait until ``deadline`` for those running. True if none is left."""
        with self._cond:
            self._stopping = True
        for lane in self._lanes:
            lane.put(None)
        with self._cond:
            return self._cond.wait_for(lambda: not self._in_flight, max(0.0, deadline - time.monotonic()))

    def _work(self, lane: queue.SimpleQueue[Work | None]) -> None:
        while (work := lane.get()) is not None:
            with self._cond:
                if self._stopping:
                    continue
                self._in_flight += 1
            subscription, message = work
            try:
                try:
                    settlement = subscription.deliver(message)
                except Exception:  # deliver never raises; if it does, keep the worker
                    log.exception("deliver raised on %s %s", message.topic, message.position.get("id"))
                    settlement = NACK
                self._settle(message, settlement)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()
