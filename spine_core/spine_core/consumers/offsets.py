"""Offsets of one partition handed to the engine, and how far they may be committed.

For brokers with Kafka's rule (a group commits one offset per partition): the
committable offset never passes a message that is not settled.
"""

from __future__ import annotations

from collections import deque


class OffsetTracker:
    """Offsets of one assigned partition in flight, and what may be committed.

    ``live`` is False once the partition was revoked or rewound: its queued
    messages are then dropped by the engine and fetched again. ``in_flight``
    and ``started`` are kept by the broker's port as workers take messages.
    """

    def __init__(self) -> None:
        self.live = True
        self.in_flight = 0
        self.started = -1
        self._open: deque[int] = deque()
        self._finished: set[int] = set()
        self.committable: int | None = None
        self.committed: int | None = None

    def add(self, offset: int) -> None:
        """``offset`` was fetched and handed to the engine (offsets are added in order)."""
        self._open.append(offset)

    def finish(self, offset: int) -> None:
        """Mark ``offset`` settled; advance ``committable`` over the settled prefix."""
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
