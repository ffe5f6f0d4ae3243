"""The in-process broker: partitioned topics, consumer groups, key order, redelivery, dead letters.

It follows Kafka's rules where the two can agree: a topic has ``partitions``
partitions, a key always lands on the same one, each partition of a topic is
owned by one member of a group at a time and is handed over in order, and a
group commits an offset only once its message is settled. A message whose
member stops before settling it goes to the next owner of its partition.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import zlib
from collections.abc import Iterable, Sequence

from attrs import define, field, frozen

from spine_core.errors import PublishError
from spine_core.messages import (
    NACK, Ack, DeadLetter, IncomingMessage, Nack, OutgoingMessage, Settlement, Subscription,
)

DEFAULT_PARTITIONS = 4
NACK_PAUSE = 0.1

log = logging.getLogger("spine.memory")


@frozen
class StoredMessage:
    """A published message as the broker keeps it."""

    topic: str
    partition: int
    offset: int
    key: str | None
    value: bytes
    headers: dict[str, str]

    def incoming(self) -> IncomingMessage:
        position = {"partition": str(self.partition), "offset": str(self.offset)}
        return IncomingMessage(self.topic, self.value, self.key, self.headers, position)


@define(eq=False)
class Member:
    """One consumer of a group: a thread that delivers from the partitions it owns."""

    group: str
    subscriptions: dict[str, Subscription]
    thread: threading.Thread | None = None
    busy: tuple[str, int] | None = None
    turn: int = 0
    stopping: bool = False
    closed: bool = False


@define
class _Group:
    members: list[Member] = field(factory=list)
    committed: dict[tuple[str, int], int] = field(factory=dict)
    owner: dict[tuple[str, int], Member] = field(factory=dict)
    in_flight: set[tuple[str, int]] = field(factory=set)


class MemoryBroker:
    """A thread-safe in-process broker shared by every app of a process (or of a test)."""

    _shared: MemoryBroker | None = None

    def __init__(self, partitions: int = DEFAULT_PARTITIONS) -> None:
        self.partitions = partitions
        self._logs: dict[str, list[list[StoredMessage]]] = {}
        self._groups: dict[str, _Group] = {}
        self._cond = threading.Condition()
        self._round_robin = itertools.count()
        self._available = True

    @classmethod
    def shared(cls) -> MemoryBroker:
        """The process-wide broker the ``memory`` plugin uses by default."""
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    # -- availability ---------------------------------------------------------

    @property
    def available(self) -> bool:
        return self._available

    @available.setter
    def available(self, value: bool) -> None:
        """Switch the broker off (publishes wait, then fail) and on again, as in an outage."""
        with self._cond:
            self._available = value
            self._cond.notify_all()

    # -- publishing -----------------------------------------------------------

    def publish(self, messages: Sequence[OutgoingMessage], timeout: float) -> None:
        """Append ``messages``; raises PublishError if the broker stays unavailable for ``timeout``."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._available, timeout):
                raise PublishError(f"memory broker unavailable: {len(messages)} message(s) not confirmed")
            for m in messages:
                self._append(m.topic, m.key, m.value, dict(m.headers))
            self._cond.notify_all()

    def _append(self, topic: str, key: str | None, value: bytes, headers: dict[str, str]) -> None:
        partitions = self._topic(topic)
        index = (zlib.crc32(key.encode()) if key is not None else next(self._round_robin)) % self.partitions
        log = partitions[index]
        log.append(StoredMessage(topic, index, len(log), key, value, headers))

    def _topic(self, topic: str) -> list[list[StoredMessage]]:
        logs = self._logs.get(topic)
        if logs is None:
            logs = self._logs[topic] = [[] for _ in range(self.partitions)]
            for name, group in self._groups.items():
                self._rebalance(group)
        return logs

    def messages(self, topic: str) -> list[StoredMessage]:
        """Every message of ``topic`` (e.g. ``order.created.dlq``), partition by partition."""
        with self._cond:
            return [m for log in self._logs.get(topic, []) for m in log]

    # -- consuming ------------------------------------------------------------

    def join(self, group_id: str, subscriptions: Iterable[Subscription]) -> Member:
        """Add a member to ``group_id`` and start its delivery thread."""
        member = Member(group_id, {s.topic: s for s in subscriptions})
        with self._cond:
            for topic in member.subscriptions:
                self._topic(topic)
            group = self._groups.setdefault(group_id, _Group())
            group.members.append(member)
            self._rebalance(group)
            self._cond.notify_all()
        member.thread = threading.Thread(
            target=self._deliver_loop, args=(member,), name=f"spine-memory-{group_id}", daemon=True
        )
        member.thread.start()
        return member

    def leave(self, member: Member, timeout: float) -> None:
        """Stop ``member``: wait up to ``timeout`` for its message in flight, then hand its
        partitions over; a message it has not settled by then is redelivered to the next owner."""
        with self._cond:
            member.stopping = True
            self._cond.notify_all()
            self._cond.wait_for(lambda: member.busy is None, timeout)
            member.closed = True
            group = self._groups[member.group]
            if member.busy is not None:
                group.in_flight.discard(member.busy)
            group.members.remove(member)
            self._rebalance(group)
            self._cond.notify_all()

    def _rebalance(self, group: _Group) -> None:
        """Give each subscribed partition to one member, round-robin over the members of its topic."""
        group.owner.clear()
        for topic, logs in self._logs.items():
            members = [m for m in group.members if topic in m.subscriptions]
            for p in range(len(logs)) if members else ():
                group.owner[(topic, p)] = members[p % len(members)]

    def _next(self, member: Member) -> tuple[Subscription, StoredMessage] | None:
        group = self._groups[member.group]
        owned = [tp for tp, owner in group.owner.items() if owner is member]
        for i in range(len(owned)):  # round-robin from the partition after the last served
            tp = owned[(member.turn + i) % len(owned)]
            log = self._logs[tp[0]][tp[1]]
            offset = group.committed.get(tp, 0)
            if tp not in group.in_flight and offset < len(log):
                member.turn += i + 1
                return member.subscriptions[tp[0]], log[offset]
        return None

    def _deliver_loop(self, member: Member) -> None:
        group = self._groups[member.group]
        while True:
            with self._cond:
                work = None
                while not member.stopping and (work := self._next(member)) is None:
                    self._cond.wait()
                if work is None:
                    return
                subscription, stored = work
                tp = (stored.topic, stored.partition)
                group.in_flight.add(tp)
                member.busy = tp
            try:
                settlement = subscription.deliver(stored.incoming())
            except Exception:  # deliver broke its contract; keep the member alive, redeliver
                log.exception("deliver raised on %s partition %d offset %d", *tp, stored.offset)
                settlement = NACK
            with self._cond:
                if not member.closed:
                    self._settle(group, stored, settlement)
                    group.in_flight.discard(tp)
                member.busy = None
                self._cond.notify_all()
                if isinstance(settlement, Nack) and not member.stopping:
                    self._cond.wait(NACK_PAUSE)  # no hot loop on a message the core gave back

    def _settle(self, group: _Group, stored: StoredMessage, settlement: Settlement) -> None:
        tp = (stored.topic, stored.partition)
        if isinstance(settlement, DeadLetter):
            self._append(settlement.topic, stored.key, stored.value, {**stored.headers, **settlement.reason})
        if isinstance(settlement, (Ack, DeadLetter)):
            group.committed[tp] = stored.offset + 1
        # Nack: the offset stays; the message is delivered again.

    def lag(self, members: Iterable[Member]) -> dict[tuple[str, int], int]:
        """Per partition owned by one of ``members``: messages its group has not settled yet."""
        with self._cond:
            lags = {}
            for member in members:
                group = self._groups[member.group]
                for tp, owner in group.owner.items():
                    if owner is member:
                        lags[tp] = len(self._logs[tp[0]][tp[1]]) - group.committed.get(tp, 0)
            return lags

    # -- tests ----------------------------------------------------------------

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until every message of every subscribed topic is settled by every group."""
        deadline = time.monotonic() + timeout
        with self._cond:
            if not self._cond.wait_for(lambda: not self._pending(), max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"memory broker not drained after {timeout}s: {self._pending()}")

    def _pending(self) -> dict[str, int]:
        pending: dict[str, int] = {}
        for name, group in self._groups.items():
            topics = {t for m in group.members for t in m.subscriptions}
            count = sum(
                len(log) - group.committed.get((t, p), 0)
                for t in topics for p, log in enumerate(self._logs.get(t, []))
            )
            if count:
                pending[name] = count
        return pending
