"""Offsets of one partition handed to the engine, and how far they may be committed.

For brokers with Kafka's rule (a group commits one offset per partition): the
committable offset never passes a message that is not settled. The tracker also
does the port's part for the partition: :meth:`~OffsetTracker.take`,
:meth:`~OffsetTracker.worth_finishing` and :meth:`~OffsetTracker.settle`, which
holds the partition after a Nack until the broker fetches it again from its
first unsettled offset.
"""

from __future__ import annotations

import time
from collections import deque

from ..consumers.settle import Outcome


class OffsetTracker:
    """Offsets of one assigned partition in flight, and what may be committed.

    ``live`` is False once the partition was revoked, or held after a Nack: its
    queued messages are then dropped by the engine and fetched again. Every method
    but :meth:`add` runs under the engine's lock (the port's ``take``, ``settled``
    and ``worth_finishing`` call them).
    """

    def __init__(self) -> None:
        self.live = True
        self.in_flight = 0
        self.started = -1
        """The highest offset a worker took."""
        self.held_until = 0.0
        """After a Nack: when (monotonic) to fetch the partition again, from :meth:`first_open`."""
        self._open: deque[int] = deque()
        self._finished: set[int] = set()
        self.committable: int | None = None
        self.committed: int | None = None

    def add(self, offset: int) -> None:
        """``offset`` was fetched and handed to the engine (offsets are added in order)."""
        self._open.append(offset)

    def take(self, offset: int) -> bool:
        """A worker takes ``offset``: False (drop it, it is fetched again) unless the partition is live."""
        if not self.live:
            return False
        self.in_flight += 1
        if offset > self.started:
            self.started = offset
        return True

    def worth_finishing(self, offset: int) -> bool:
        """While stopping: deliver ``offset`` anyway, as it lies before one already started
        (finishing it lets that one be committed)."""
        return self.live and offset < self.started

    def settle(self, offset: int, outcome: Outcome, redelivery_delay: float) -> bool:
        """A taken offset was settled: DONE finishes it; otherwise the live partition is held
        for ``redelivery_delay`` seconds (:attr:`held_until`). True when it was held now: the
        broker then fetches it again from :meth:`first_open` once the hold is over."""
        self.in_flight -= 1
        if outcome is Outcome.DONE:
            opened = self._open
            if not self._finished and opened and opened[0] == offset:  # PERF: in order, without a call
                opened.popleft()
                self.committable = offset + 1
            else:
                self.finish(offset)
            return False
        if not self.live:
            return False  # revoked or held already: fetched again anyway
        self.live = False
        self.held_until = time.monotonic() + redelivery_delay
        return True

    @property
    def handed_over(self) -> bool:
        """Not live and nothing in flight: a revoke or a rewind waiting for its messages may go on."""
        return not self.live and not self.in_flight

    def successor(self) -> OffsetTracker:
        """The tracker of the partition once rewound: not live until it is fetched again,
        committed as far as this one."""
        fresh = OffsetTracker()
        fresh.live = False
        fresh.committed = self.committed
        return fresh

    def finish(self, offset: int) -> None:
        """Mark ``offset`` settled; advance ``committable`` over the settled prefix."""
        if not self._finished and self._open and self._open[0] == offset:  # PERF: the usual case, in order
            self._open.popleft()
            self.committable = offset + 1
            return
        self._finished.add(offset)
        while self._open and self._open[0] in self._finished:
            self._finished.discard(done := self._open.popleft())
            self.committable = done + 1

    def first_open(self, default: int) -> int:
        """The first offset handed out and not settled yet."""
        return self._open[0] if self._open else default

    def to_commit(self, again: bool = False) -> int | None:
        """The offset to commit: new progress, or (``again``) all progress, e.g. when a
        commit that may have failed must be repeated before a handover."""
        if self.committable is not None and (again or self.committable != self.committed):
            return self.committable
        return None
