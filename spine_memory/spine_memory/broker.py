"""The in-process broker: partitioned topics, consumer groups, key order, redelivery, dead letters.

It follows Kafka's rules where the two can agree: a topic has ``partitions``
partitions, a key always lands on the same one, each partition of a topic is
owned by one member of a group at a time and is handed over once the previous
owner's messages in flight finished, and a group commits an offset only once
every message before it is settled. Delivery runs on the core's engine
(:class:`spine_core.broker.Lanes`): per-key order, a pool of workers per member.

Retention: each partition keeps its newest ``retention`` messages (for tests to
inspect with :meth:`MemoryBroker.messages`) and, beyond those, only what a
group consuming the topic has not settled yet; memory stays bounded under a
steady stream. A group that joins later starts from the oldest message kept.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterable, Sequence

from attrs import define, field, frozen

from spine_core.broker import (
    IncomingMessage, Lane, Lanes, OffsetTracker, OutgoingMessage, Outcome, PublishError, Subscription,
)

DEFAULT_PARTITIONS = 4
DEFAULT_WORKERS = 4
DEFAULT_RETENTION = 1000
REDELIVERY_DELAY = 1.0
MAX_PENDING = 1000
ROOM_POLL = 0.01
"""How often a member with ``MAX_PENDING`` messages queued looks for room again."""

log = logging.getLogger("spine.memory")

Partition = tuple[str, int]


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


@define
class _Log:
    """One partition: the messages kept, from offset ``base`` on."""

    base: int = 0
    kept: deque[StoredMessage] = field(factory=deque)

    @property
    def end(self) -> int:
        return self.base + len(self.kept)

    def at(self, offset: int) -> StoredMessage:
        return self.kept[offset - self.base]

    def release(self, before: int) -> None:
        while self.kept and self.base < before:
            self.kept.popleft()
            self.base += 1


class _Cursor(OffsetTracker):
    """A partition's offsets in flight, and the next offset to fetch."""

    def __init__(self, next: int) -> None:
        super().__init__()
        self.next = next


Work = tuple[_Cursor, StoredMessage]


@define(eq=False)
class Member:
    """One consumer of a group: a fetch thread feeding the engine from the partitions it owns."""

    group: str
    subscriptions: dict[str, Subscription]
    lanes: Lanes[Work] | None = None
    wake: threading.Condition | None = None
    """Its fetch thread waits on it (under the broker's lock) for something to fetch."""
    thread: threading.Thread | None = None
    trackers: dict[Partition, _Cursor] = field(factory=dict)
    held: dict[Partition, float] = field(factory=dict)
    """Partitions given back (Nack) and when to fetch them again."""
    redelivery_delay: float = REDELIVERY_DELAY
    stopping: bool = False
    closed: bool = False


@define
class _Group:
    members: list[Member] = field(factory=list)
    committed: dict[Partition, int] = field(factory=dict)
    owner: dict[Partition, Member] = field(factory=dict)
    previous: dict[Partition, OffsetTracker] = field(factory=dict)
    """The tracker of a partition's previous owner, until its messages in flight finished."""


class MemoryBroker:
    """A thread-safe in-process broker shared by every app of a process (or of a test)."""

    _shared: MemoryBroker | None = None

    def __init__(self, partitions: int = DEFAULT_PARTITIONS, retention: int = DEFAULT_RETENTION) -> None:
        self.partitions = partitions
        self.retention = retention
        self._logs: dict[str, list[_Log]] = {}
        self._groups: dict[str, _Group] = {}
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
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
            if not self._available and not self._cond.wait_for(lambda: self._available, timeout):
                raise PublishError(f"memory broker unavailable: {len(messages)} message(s) not confirmed")
            self._hand_out({self._append(m.topic, m.key, m.value, dict(m.headers)) for m in messages})

    def _hand_out(self, partitions: set[Partition]) -> None:
        """Give the consumers of ``partitions`` their new messages now, without waking their fetch
        threads (one thread handoff from publisher to handler instead of two)."""
        topics = {topic for topic, _ in partitions}
        for group in self._groups.values():
            for member in group.members:
                lanes = member.lanes
                if lanes is not None and not member.stopping and not topics.isdisjoint(member.subscriptions):
                    room = MAX_PENDING - lanes.queued
                    work = self._fetch(member, room, partitions)
                    if work:
                        lanes.submit_locked(work)
                    if len(work) >= room:  # more than there was room for: the fetch thread goes on
                        self._wake(member)

    def _wake(self, member: Member) -> None:
        if member.wake is not None:
            member.wake.notify()

    def _append(self, topic: str, key: str | None, value: bytes, headers: dict[str, str]) -> Partition:
        index = (zlib.crc32(key.encode()) if key is not None else next(self._round_robin)) % self.partitions
        log_ = self._topic(topic)[index]
        log_.kept.append(StoredMessage(topic, index, log_.end, key, value, headers))
        if len(log_.kept) > self.retention:
            self._release((topic, index))
        return topic, index

    def _topic(self, topic: str) -> list[_Log]:
        logs = self._logs.get(topic)
        if logs is None:
            logs = self._logs[topic] = [_Log() for _ in range(self.partitions)]
            for group in self._groups.values():
                self._rebalance(group)
        return logs

    def _release(self, tp: Partition) -> None:
        """Drop the messages of ``tp`` beyond the newest ``retention`` that every group
        consuming its topic has committed."""
        topic, partition = tp
        log_ = self._logs[topic][partition]
        limit = log_.end - self.retention
        for group in self._groups.values():
            if any(topic in m.subscriptions for m in group.members):
                limit = min(limit, group.committed.get(tp, 0))
        log_.release(limit)

    def messages(self, topic: str) -> list[StoredMessage]:
        """Every message of ``topic`` still kept (e.g. ``order.created.dlq``), partition by partition."""
        with self._cond:
            return [m for log_ in self._logs.get(topic, []) for m in log_.kept]

    # -- consuming ------------------------------------------------------------

    def join(
        self, group_id: str, subscriptions: Iterable[Subscription], *,
        workers: int = DEFAULT_WORKERS, redelivery_delay: float = REDELIVERY_DELAY,
    ) -> Member:
        """Add a member to ``group_id`` and start its fetch thread and workers."""
        member = Member(group_id, {s.topic: s for s in subscriptions}, redelivery_delay=redelivery_delay)
        member.wake = threading.Condition(self._lock)
        member.lanes = Lanes(
            _Port(self, member), list(member.subscriptions.values()),
            workers=workers, max_pending=MAX_PENDING, name=f"memory-{group_id}", lock=self._lock,
        )
        with self._cond:
            for topic in member.subscriptions:
                self._topic(topic)
            group = self._groups.setdefault(group_id, _Group())
            group.members.append(member)
            self._rebalance(group)
        member.lanes.start()
        member.thread = threading.Thread(
            target=self._fetch_loop, args=(member,), name=f"spine-memory-{group_id}", daemon=True
        )
        member.thread.start()
        return member

    def leave(self, member: Member, timeout: float) -> None:
        """Stop ``member``: wait up to ``timeout`` for its messages in flight, then hand its
        partitions over; a message it has not settled by then is redelivered to the next owner."""
        assert member.lanes is not None  # nosec B101 # narrows a type for mypy
        lanes = member.lanes
        lanes.stop()
        lanes.drain(time.monotonic() + timeout)
        with self._cond:
            member.stopping = member.closed = True
            group = self._groups[member.group]
            group.members.remove(member)
            self._rebalance(group)
            self._wake(member)
            self._cond.notify_all()
        lanes.join(0.0)

    def _rebalance(self, group: _Group) -> None:
        """Give each subscribed partition to one member, round-robin over the members of its topic;
        a partition that moves is fetched by its new owner once the old one's messages finished."""
        owners: dict[Partition, Member] = {}
        for topic, logs in self._logs.items():
            members = [m for m in group.members if topic in m.subscriptions]
            for p in range(len(logs)) if members else ():
                owners[(topic, p)] = members[p % len(members)]
        for tp, old in group.owner.items():
            if owners.get(tp) is not old:
                tracker = old.trackers.pop(tp, None)
                old.held.pop(tp, None)
                if tracker is not None:
                    tracker.live = False
                    if tracker.in_flight and not old.closed:
                        group.previous[tp] = tracker
        group.owner = owners
        for member in group.members:
            self._wake(member)

    def _fetch_loop(self, member: Member) -> None:
        lanes, wake = member.lanes, member.wake
        assert lanes is not None and wake is not None  # nosec B101 # narrows a type for mypy
        with self._cond:
            while not member.stopping:
                work = self._fetch(member, MAX_PENDING - lanes.queued)
                if work:
                    lanes.submit_locked(work)
                    continue
                now = time.monotonic()
                timeout = min(member.held.values(), default=now + 1.0) - now
                if lanes.queued >= MAX_PENDING:
                    timeout = min(timeout, ROOM_POLL)
                wake.wait(max(0.0, timeout))

    def _fetch(self, member: Member, room: int, only: Iterable[Partition] | None = None) -> list[tuple[Lane, Work]]:
        """Up to ``room`` messages of the partitions ``member`` owns (``only`` those of them, if
        given), in offset order (under the lock)."""
        group = self._groups[member.group]
        now = time.monotonic()
        work: list[tuple[Lane, Work]] = []
        owners = group.owner
        for tp in owners if only is None else only:
            if owners.get(tp) is not member or room <= 0:
                continue
            if tp in member.held:
                if member.held[tp] > now:
                    continue
                del member.held[tp]
            previous = group.previous.get(tp)
            if previous is not None:
                if previous.in_flight:
                    continue
                del group.previous[tp]
            tracker = member.trackers.get(tp)
            if tracker is None:
                tracker = member.trackers[tp] = _Cursor(group.committed.get(tp, 0))
            log_ = self._logs[tp[0]][tp[1]]
            tracker.next = max(tracker.next, log_.base)
            while tracker.next < log_.end and room > 0:
                stored = log_.at(tracker.next)
                tracker.add(tracker.next)
                tracker.next += 1
                work.append(((stored.topic, stored.partition, stored.key), (tracker, stored)))
                room -= 1
        return work

    def _settled(self, member: Member, tracker: _Cursor, stored: StoredMessage, outcome: Outcome) -> bool:
        """A message's outcome (under the lock): commit what is settled, or rewind after a Nack."""
        tp = (stored.topic, stored.partition)
        group = self._groups[member.group]
        held = tracker.settle(stored.offset, outcome, member.redelivery_delay)
        if member.closed:
            pass  # handed over already: the next owner delivers it again
        elif held:  # fetched again from what is committed, once the hold is over
            del member.trackers[tp]
            member.held[tp] = tracker.held_until
            if tracker.in_flight:
                group.previous[tp] = tracker
            self._wake(member)
        elif tracker.committable is not None and tracker.committable > group.committed.get(tp, 0):
            group.committed[tp] = tracker.committable
        self._handed_over(group, tp, tracker)
        self._cond.notify_all()
        return True

    def _handed_over(self, group: _Group, tp: Partition, tracker: _Cursor) -> None:
        """Wake the new owner of ``tp`` once the previous owner's last message in flight settled."""
        if group.previous.get(tp) is tracker and not tracker.in_flight:
            owner = group.owner.get(tp)
            if owner is not None:
                self._wake(owner)

    def lag(self, members: Iterable[Member]) -> dict[tuple[str, int], int]:
        """Per partition owned by one of ``members``: messages its group has not settled yet."""
        with self._cond:
            lags = {}
            for member in members:
                group = self._groups[member.group]
                for tp, owner in group.owner.items():
                    if owner is member:
                        log_ = self._logs[tp[0]][tp[1]]
                        lags[tp] = log_.end - max(group.committed.get(tp, 0), log_.base)
            return lags

    # -- tests ----------------------------------------------------------------

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until every message of every subscribed topic is settled by every group.

        Only what was published counts: events still in a PostgreSQL outbox, not yet relayed,
        are not waited for (poll for their effect with a deadline, then drain)."""
        with self._cond:
            if not self._cond.wait_for(self._drained, timeout):
                raise TimeoutError(f"memory broker not drained after {timeout}s: {self._pending()}")

    def _drained(self) -> bool:
        """No group has a message left to settle: :meth:`_pending` empty, stopping at the first
        (a test's drain checks it right after publishing, before the consumer can run)."""
        logs = self._logs
        for group in self._groups.values():
            committed = group.committed
            for topic in {t for m in group.members for t in m.subscriptions}:
                for p, log_ in enumerate(logs.get(topic, ())):
                    if log_.end > committed.get((topic, p), 0) and log_.kept:
                        return False
        return True

    def _pending(self) -> dict[str, int]:
        pending: dict[str, int] = {}
        for name, group in self._groups.items():
            topics = {t for m in group.members for t in m.subscriptions}
            count = sum(
                log_.end - max(group.committed.get((t, p), 0), log_.base)
                for t in topics for p, log_ in enumerate(self._logs.get(t, []))
            )
            if count:
                pending[name] = count
        return pending


class _Port:
    """The engine's view of one member (see :class:`spine_core.broker.Port`)."""

    def __init__(self, broker: MemoryBroker, member: Member) -> None:
        self._broker = broker
        self._member = member

    def message(self, item: Work) -> IncomingMessage:
        return item[1].incoming()

    def take(self, item: Work) -> bool:
        return not self._member.closed and item[0].take(item[1].offset)

    def settled(self, item: Work, outcome: Outcome) -> bool:
        return self._broker._settled(self._member, item[0], item[1], outcome)

    def worth_finishing(self, item: Work) -> bool:
        return item[0].worth_finishing(item[1].offset)

    def dead_letter(self, letter: OutgoingMessage) -> None:
        self._broker.publish([letter], timeout=5.0)
