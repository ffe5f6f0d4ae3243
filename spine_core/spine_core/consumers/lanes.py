"""The delivery engine: an ordered, keyed pool of worker threads shared by every broker.

A broker plugin fetches messages and hands them in with :meth:`Lanes.submit`,
each on a *lane* it names: a tuple that starts with the topic (Kafka: topic,
partition and key). Messages of one lane are delivered one at a time, in the
order submitted; different lanes run in parallel on ``workers`` threads, which
take up to ``BATCH`` lanes at once (one lock round trip per batch). An idle worker
is woken only when no other is on its way to take work: the one woken wakes the
next if it leaves work behind (a wake-up costs tens of µs, and under the GIL
workers woken at once mostly wait for each other). A batch
handler's topic is delivered in batches of up to its ``max_batch`` messages,
several of one lane in order. At most ``max_pending`` messages wait: the broker
asks :meth:`Lanes.room` before fetching more.

What a delivered message comes to is settled by :mod:`.settle` and reported
to the broker's :class:`Port`, whose ``take`` and ``settled`` run under the
engine's lock: a broker keeps its own positions (offsets, delivery tags)
consistent with what is in flight by guarding them with :attr:`Lanes.lock`,
and waits on :attr:`Lanes.changed` for messages in flight to finish (or it
gives the engine its own lock).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, Generic, Protocol, TypeVar

from ..messages import IncomingMessage, OutgoingMessage, Subscription
from .settle import Outcome, settle, settle_batch

log = logging.getLogger("spine.consumer")

BATCH = 32
"""At most this many lanes a worker takes at once."""
STEAL_AFTER = 0.05
"""A worker busy this long (seconds) on one message lets idle workers take the rest of its batch,
so that a slow handler holds up only its own lane."""

Lane = tuple[Any, ...]
"""A lane's name: the topic, then whatever keeps order (partition, key)."""
Item = TypeVar("Item")
ItemContra = TypeVar("ItemContra", contravariant=True)


class Port(Protocol[ItemContra]):
    """What the engine asks of a broker about the items it submitted."""

    def message(self, item: ItemContra) -> IncomingMessage:
        """The message of ``item`` as the core sees it (built on the worker thread)."""

    def take(self, item: ItemContra) -> bool:
        """Under the lock, when a worker takes ``item``: False if it is no longer this
        member's to deliver (revoked, rewound, its channel closed); it is then dropped."""

    def settled(self, item: ItemContra, outcome: Outcome) -> bool:
        """Under the lock, once ``item`` was settled (``outcome`` is never SKIPPED for a taken
        item). True wakes whoever waits on :attr:`Lanes.changed`."""

    def worth_finishing(self, item: ItemContra) -> bool:
        """Under the lock, while stopping: deliver ``item`` anyway (e.g. it lies before a
        message already handled, so finishing it lets that one be committed)."""

    def dead_letter(self, letter: OutgoingMessage) -> None:
        """Publish a dead letter and return once it is confirmed; raise PublishError if not."""


class _Held(Generic[Item]):
    """A worker's batch: messages not started yet, those settled but not reported yet (their
    lanes wait for the report), and when it started the current one."""

    __slots__ = ("waiting", "done", "since")

    def __init__(self) -> None:
        self.waiting: deque[tuple[Lane, Item]] = deque()
        self.done: deque[tuple[Lane, Item, Outcome]] = deque()
        self.since = 0.0


class Lanes(Generic[Item]):
    """Per-lane ordered delivery on a pool of worker threads; see the module's docstring."""

    def __init__(self, port: Port[Item], subscriptions: Sequence[Subscription], *, workers: int, max_pending: int,
                 name: str, lock: threading.Lock | None = None) -> None:
        self._port = port
        self._subscriptions = {s.topic: s for s in subscriptions}
        self._max_batch = {s.topic: s.max_batch for s in subscriptions if s.deliver_batch is not None}
        self._cap = max([BATCH, *self._max_batch.values()])
        self._workers = workers
        self._max_pending = max_pending
        self._name = name
        self.lock = lock or threading.Lock()
        self._work_ready = threading.Condition(self.lock)
        self.changed = threading.Condition(self.lock)
        """Notified when there is room for more messages, when messages in flight finish (if the
        port asked for it) and while stopping."""
        self._lanes: dict[Lane, deque[Item]] = {}
        self._ready: deque[Lane] = deque()
        self._idle = 0
        """Workers waiting for work."""
        self._waking = False
        """A worker was woken and has not looked for work yet."""
        self.queued = 0
        self.in_flight = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._held: list[_Held[Item]] = [_Held() for _ in range(workers)]

    def start(self) -> None:
        """Start the worker threads."""
        for i in range(self._workers):
            thread = threading.Thread(target=self._work, args=(self._held[i],), name=f"spine-{self._name}-{i}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    # -- the broker's side ---------------------------------------------------------

    def room(self, timeout: float) -> int:
        """How many more messages may be submitted; waits up to ``timeout`` while more than
        half of ``max_pending`` wait, so that the broker fetches in batches."""
        low = self._max_pending // 2
        with self.lock:
            self.changed.wait_for(lambda: self.queued <= low, timeout)
            return max(0, self._max_pending - self.queued)

    def submit(self, items: Iterable[tuple[Lane, Item]]) -> None:
        """Queue ``(lane, item)`` pairs, in order, and wake as many workers as there is work for."""
        with self.lock:
            self.submit_locked(items)

    def submit_locked(self, items: Iterable[tuple[Lane, Item]]) -> None:
        """:meth:`submit`, for a caller already holding :attr:`lock`."""
        lanes, ready = self._lanes, self._ready
        count = 0
        for lane, item in items:
            queue = lanes.get(lane)
            if queue is None:
                queue = lanes[lane] = deque()
                ready.append(lane)
            queue.append(item)
            count += 1
        self.queued += count
        self._wake()

    def stop(self) -> None:
        """Take no new work: only what is in flight, and what the port deems worth finishing."""
        with self.lock:
            self._stopping = True
            self._work_ready.notify_all()
            self.changed.notify_all()

    def drain(self, deadline: float) -> bool:
        """After :meth:`stop`, wait until nothing is in flight (or ``deadline``, monotonic);
        False if messages were still in flight then. What is queued stays unsettled."""
        with self.lock:
            return self.changed.wait_for(self._drained, max(0.0, deadline - time.monotonic()))

    def join(self, timeout: float) -> None:
        """Wait for the worker threads to end (after :meth:`stop` and :meth:`drain`)."""
        with self.lock:
            self._stopping = True
            self._lanes.clear()
            self._ready.clear()
            self.queued = 0
            self._work_ready.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    # -- workers -------------------------------------------------------------------

    def _work(self, held: _Held[Item]) -> None:
        port, subscriptions, batched = self._port, self._subscriptions, self._max_batch
        waiting, done, clock = held.waiting, held.done, time.monotonic
        while batch := self._take_batch():
            if batched:
                self._finish([(lane, item, outcome) for (lane, item), outcome in
                              zip(batch, self._deliver_batches(batch))])
                continue
            # From here on, if this worker gets stuck on one message, idle workers take what it has
            # not started and report what it has settled (see _steal).
            waiting.extend(batch)
            while True:
                try:
                    lane, item = waiting.popleft()
                except IndexError:
                    break
                held.since = clock()
                try:
                    message = port.message(item)
                    outcome = settle(subscriptions[message.topic].deliver, message, port.dead_letter)
                except Exception:  # a bug in a plugin: keep the message for redelivery
                    log.exception("%s: delivering a message failed; it will be redelivered", self._name)
                    outcome = Outcome.RETRY
                done.append((lane, item, outcome))
            self._finish(_drain(done))

    def _deliver_batches(self, batch: list[tuple[Lane, Item]]) -> list[Outcome]:
        """Outcomes of a worker's batch where some topics have batch handlers: their messages go
        to ``deliver_batch`` together (in lane order), the others one at a time."""
        port = self._port
        outcomes: list[Outcome] = [Outcome.RETRY] * len(batch)
        by_topic: dict[str, list[int]] = {}
        for index, (lane, _) in enumerate(batch):
            by_topic.setdefault(lane[0], []).append(index)
        for topic, indexes in by_topic.items():
            subscription = self._subscriptions[topic]
            size = subscription.max_batch if subscription.deliver_batch is not None else len(indexes)
            for start in range(0, len(indexes), size):  # in order: a lane's later items come later
                chunk = indexes[start:start + size]
                try:
                    messages = [port.message(batch[i][1]) for i in chunk]
                    if subscription.deliver_batch is None:
                        results = [settle(subscription.deliver, m, port.dead_letter) for m in messages]
                    else:
                        results = settle_batch(subscription.deliver_batch, messages, port.dead_letter)
                except Exception:  # a bug in a plugin: keep the messages for redelivery
                    log.exception("%s: delivering %d message(s) failed; redelivered", self._name, len(chunk))
                    continue
                for i, outcome in zip(chunk, results):
                    outcomes[i] = outcome
        return outcomes

    def _take_batch(self) -> list[tuple[Lane, Item]]:
        """Up to BATCH items of different lanes, now in flight; empty once stopped and idle."""
        with self.lock:
            while True:
                lanes = self._take()
                if not lanes:
                    if self._stopping and not self.in_flight:
                        return []
                    stolen = self._steal()
                    if stolen:
                        return stolen
                    # While anything is in flight, look again after STEAL_AFTER: a worker that took
                    # a batch may get stuck on its first message before anyone is notified.
                    self._idle += 1
                    self._work_ready.wait(STEAL_AFTER if self.in_flight else None)
                    self._idle -= 1
                    self._waking = False  # this one looks now: another may be woken for what it leaves
                    continue
                batch = self._take_items(lanes)
                if self._ready:  # more than this worker's share: let another take the rest
                    self._wake()
                if batch:
                    return batch
                self.changed.notify()

    def _take_items(self, lanes: list[Lane]) -> list[tuple[Lane, Item]]:
        """Under the lock: the next items of ``lanes`` the port lets go, now in flight; one of each lane,
        several of a batch handler's (up to its ``max_batch``, the batch up to ``_cap``)."""
        port, queues, batch = self._port, self._lanes, []
        if not self._max_batch:  # PERF: one item of each lane, without the counting below
            for lane in lanes:
                item = queues[lane].popleft()
                if port.take(item):
                    batch.append((lane, item))
                else:
                    self._next_of(lane)
            self.queued -= len(lanes)
            self.in_flight += len(batch)
            return batch
        budget = self._cap
        for lane in lanes:
            queue = queues[lane]
            count = min(len(queue), max(1, budget), self._max_batch.get(lane[0], 1))
            before = len(batch)
            for _ in range(count):
                item = queue.popleft()
                if port.take(item):
                    batch.append((lane, item))
            self.queued -= count
            taken = len(batch) - before
            budget -= taken
            if not taken:
                self._next_of(lane)
        self.in_flight += len(batch)
        return batch

    def _steal(self) -> list[tuple[Lane, Item]]:
        """Under the lock: the messages a worker busy on one message for STEAL_AFTER has not
        started (each of its own lane: the busy worker's order is not affected), once what it
        settled before was reported (their lanes go on); empty if none is that busy."""
        now = time.monotonic()
        for held in self._held:
            if (held.waiting or held.done) and now - held.since > STEAL_AFTER:
                self._report(_drain(held.done))
                stolen = []
                while True:
                    try:
                        stolen.append(held.waiting.pop())
                    except IndexError:
                        break
                if stolen:
                    stolen.reverse()
                    return stolen
        return []

    def _report(self, settled: list[tuple[Lane, Item, Outcome]]) -> bool:
        """Under the lock: tell the port what ``settled`` came to and requeue their lanes; whether
        the port asked for a wake-up."""
        port, wake = self._port, False
        for _, item, outcome in settled:
            wake = port.settled(item, outcome) or wake
        self.in_flight -= len(settled)
        lanes, ready = self._lanes, self._ready
        for lane in dict.fromkeys([lane for lane, _, _ in settled]):  # PERF: _next_of inlined
            if lanes.get(lane):
                ready.append(lane)
            else:
                lanes.pop(lane, None)
        return wake

    def _finish(self, settled: list[tuple[Lane, Item, Outcome]]) -> None:
        """Report a batch's outcomes to the port (under one lock) and requeue its lanes."""
        with self.lock:
            wake = self._report(settled)  # the ready lanes: this worker takes them next, and wakes another if need be
            if wake or self._stopping or self.queued <= self._max_pending // 2:
                self.changed.notify_all()  # the broker waits for one of these; a wake costs tens of µs
            if self._stopping and not self.in_flight:
                self._work_ready.notify_all()

    def _wake(self) -> None:
        """Under the lock: wake an idle worker for the ready lanes, unless one is on its way already."""
        if self._idle and not self._waking:
            self._waking = True
            self._work_ready.notify()

    def _take(self) -> list[Lane]:
        """The next lanes to work on (under the lock): a fair share of the ready ones, at most
        BATCH; while stopping, only a lane whose next item the port deems worth finishing."""
        ready = self._ready
        if not self._stopping:
            count = min(len(ready), max(1, min(self._cap, len(ready) // self._workers)))
            return [ready.popleft() for _ in range(count)]
        lane = self._worth_finishing()
        if lane is None:
            return []
        ready.remove(lane)
        return [lane]

    def _worth_finishing(self) -> Lane | None:
        for lane in self._ready:
            if self._port.worth_finishing(self._lanes[lane][0]):
                return lane
        return None

    def _drained(self) -> bool:
        return not self.in_flight and self._worth_finishing() is None

    def _next_of(self, lane: Lane) -> None:
        """Requeue ``lane`` if more of its items wait, else forget it (under the lock)."""
        if self._lanes.get(lane):
            self._ready.append(lane)
        else:
            self._lanes.pop(lane, None)


def _drain(entries: "deque[tuple[Lane, Item, Outcome]]") -> list[tuple[Lane, Item, Outcome]]:
    """Take every entry out of ``entries`` (a worker and a thread stealing from it may both do
    this: each entry is taken once)."""
    taken = []
    while True:
        try:
            taken.append(entries.popleft())
        except IndexError:
            return taken
