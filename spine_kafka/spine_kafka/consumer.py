"""Consuming: one group member per ``spine_subscribe`` call.

A poll thread owns the librdkafka consumer: it fetches, hands messages to a pool
of worker threads in batches, commits and handles rebalances. Workers call the core's
``deliver`` and settle what it returns. Messages of one key of one partition are
delivered one at a time, in offset order; other keys run in parallel. A batch
handler's messages are handed over per partition instead: its batches are runs
of one partition in offset order (a lane per key would cost a lane per message). A
partition's offset is committed only up to its first unfinished message, so a
message is never committed before it was handled or dead-lettered.

Commits are asynchronous every 100 ms while consuming, synchronous at a
rebalance (after the revoked partitions' messages in flight finished) and at
close. Closing stops fetching, finishes the messages in flight and those queued
before a message already started (so that what finished can be committed),
within the deadline; the rest is redelivered to the next member. A message the
core gives back (Nack) pauses its partition, which is fetched again from its
first unsettled offset after ``ReadOptions.redelivery_delay``.

Only the poll thread calls the librdkafka consumer: confluent-kafka serializes
calls on a consumer, so a call from another thread would wait for a ``consume``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from confluent_kafka import Consumer as RdKafkaConsumer
from confluent_kafka import KafkaError, KafkaException, Message, TopicPartition

from spine_core.broker import (
    BootError, IncomingMessage, Lanes, OffsetTracker, OutgoingMessage, Outcome, Subscription, incoming_message,
    text_headers,
)

from .publisher import Publisher
from .topics import TopicError, Topics

log = logging.getLogger("spine.kafka")

POLL_TIMEOUT = 0.1
COMMIT_INTERVAL = 0.1
FETCH_BATCH = 500
"""At most this many messages are taken from librdkafka at once."""
SUBSCRIBE_TIMEOUT = 1.0
SUBSCRIBE_RETRY = 5.0
TOPIC_CHECK_INTERVAL = 2.0
SUBSCRIBE_LOG_EVERY = 30.0
"""While subscribing keeps failing, a line at most this often (not one per attempt)."""
"""How often the poll thread checks that its topics still exist (a broker restarted empty loses them)."""

Partition = tuple[str, int]
Lane = tuple[str, int, "bytes | None"]


Work = tuple["OffsetTracker", Message, int]
"""A fetched message waiting for (or in) a worker: its partition's state, the message, its offset."""


def incoming(message: Message, partition: int, offset: int) -> IncomingMessage:
    """The message as the core sees it: text key and headers, position for logs and dead letters."""
    key = message.key()
    raw = message.headers()
    return incoming_message(
        message.topic() or "",
        message.value() or b"",
        None if key is None else key.decode("utf-8", "replace"),  # PERF: librdkafka's keys are bytes
        {} if raw is None else _text(raw),
        {"partition": str(partition), "offset": str(offset)},
    )


def _text(raw: dict[str, Any] | list[tuple[str, Any]]) -> dict[str, str]:
    """librdkafka's headers (pairs of a text name and a bytes or None value) as text:
    :func:`text_headers` in one comprehension, the larger part of a message's conversion (PERF:
    UTF-8 checked strictly first, a quarter cheaper than the replacing decoder; any header that
    is not valid UTF-8 bytes sends the whole list through the generic conversion)."""
    if type(raw) is list:
        try:
            return {name: value.decode() for name, value in raw}
        except (AttributeError, UnicodeDecodeError):  # None, text, or a byte that is not UTF-8
            pass
    return text_headers(raw)


class Consumer:
    """One member of a consumer group: a poll thread and a pool of workers."""

    def __init__(
        self,
        config: dict[str, Any],
        subscriptions: Sequence[Subscription],
        producer: Publisher,
        topics: Topics,
        *,
        workers: int,
        max_pending: int,
        settle_timeout: float,
        revoke_timeout: float,
        redelivery_delay: float,
    ) -> None:
        self._config = config
        self._group = config["group.id"]
        self._subscriptions = {s.topic: s for s in subscriptions}
        self._batched = {s.topic for s in subscriptions if s.deliver_batch is not None}
        self._producer = producer
        self._topics = topics
        self._redelivery_delay = redelivery_delay
        self._settle_timeout = settle_timeout
        self._revoke_timeout = revoke_timeout
        self._consumer: Any = None
        self._lanes: Lanes[Work] = Lanes(
            self, list(subscriptions),
            workers=workers, max_pending=max_pending, name=f"kafka-{self._group}",
        )
        self._lock = self._lanes.lock
        """The engine's lock also guards the partition states and the nacks."""
        self._states: dict[Partition, OffsetTracker] = {}
        self._nacks: list[tuple[OffsetTracker, Partition, int]] = []
        # Poll thread only.
        self._held: dict[Partition, tuple[int, float]] = {}
        self._paused: set[Partition] = set()
        self._last_commit = 0.0
        self._last_topic_check = time.monotonic()
        self._missing: list[str] = []
        self._close_deadline: float | None = None
        self._assigned: bool = False
        self._poller: threading.Thread | None = None
        self._stop = threading.Event()
        self._fatal: str | None = None
        self._lag: dict[Partition, int] = {}

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> None:
        """Create the consumer and start the threads; the poll thread joins the group."""
        try:
            self._consumer = RdKafkaConsumer({**self._config, "error_cb": self._on_error, "on_commit": self._on_commit})
        except KafkaException as e:
            raise BootError(f"kafka consumer configuration refused: {e.args[0].str()}") from None
        self._poller = threading.Thread(target=self._poll_loop, name=f"spine-kafka-poll-{self._group}", daemon=True)
        self._poller.start()
        self._lanes.start()

    def stop(self, deadline: float) -> None:
        """Stop fetching; in-flight messages may finish until ``deadline`` (monotonic)."""
        self._close_deadline = deadline
        self._stop.set()

    def join(self) -> None:
        """Wait until the member committed what it finished and left the group."""
        if self._poller is not None:
            self._poller.join(max(0.0, (self._close_deadline or 0.0) - time.monotonic()) + 10.0)
            if self._poller.is_alive():
                log.error("kafka consumer of group %s did not close", self._group)

    def health(self) -> tuple[bool, str]:
        """Whether this member runs and holds an assignment, and a short description."""
        if self._fatal is not None:
            return False, f"group {self._group}: {self._fatal}"
        if self._poller is None or not self._poller.is_alive():
            return False, f"group {self._group}: consumer stopped"
        with self._lock:
            count = len(self._states)
        if not self._assigned:
            return False, f"group {self._group}: joining"
        return True, f"group {self._group}: {count} partition(s)"

    def lag(self) -> dict[Partition, int]:
        """Per assigned partition, messages not settled yet, as the poll thread last measured."""
        return dict(self._lag)

    # -- poll thread -------------------------------------------------------------

    def _subscribe(self) -> bool:
        """Create the missing topics and subscribe; retried while the cluster cannot be reached."""
        logged = float("-inf")
        while not self._stop.is_set():
            try:
                self._topics.ensure(self._subscriptions, SUBSCRIBE_TIMEOUT)
            except TopicError as e:
                if time.monotonic() - logged >= SUBSCRIBE_LOG_EVERY:
                    logged = time.monotonic()
                    log.warning("kafka group %s cannot subscribe yet (retrying): %s", self._group, e)
                self._stop.wait(SUBSCRIBE_RETRY)
                continue
            self._consumer.subscribe(
                list(self._subscriptions), on_assign=self._on_assign, on_revoke=self._on_revoke, on_lost=self._on_lost
            )
            return True
        return False

    def _poll_loop(self) -> None:
        consumer = self._consumer
        if not self._subscribe():
            consumer.close()
            return
        while not self._stop.is_set():
            try:
                self._reconcile_pause()
                room = self._room()  # when full, still serve callbacks: take at most one message
                self._receive(self._fetch(consumer, room))
                self._apply_nacks()
                if time.monotonic() - self._last_commit >= COMMIT_INTERVAL:
                    self._commit(asynchronous=True)
                    self._measure_lag()
                if time.monotonic() - self._last_topic_check >= TOPIC_CHECK_INTERVAL:
                    self._check_topics()
            except Exception:  # never let the member die silently; retry after a pause
                log.exception("kafka consumer of group %s failed; going on", self._group)
                self._stop.wait(1.0)
        self._shut_down()

    def _check_topics(self) -> None:
        """Create again the subscribed topics the cluster lost, and subscribe again to find them."""
        self._last_topic_check = time.monotonic()
        try:
            gone = self._topics.missing(self._subscriptions, SUBSCRIBE_TIMEOUT)
        except KafkaException:
            return  # unreachable: librdkafka reconnects by itself
        if gone and self._topics.creates:
            log.warning("kafka group %s: topic(s) %s missing (broker restarted?); creating them again",
                        self._group, ", ".join(gone))
            self._subscribe()
        elif gone and gone != self._missing:  # create.topics=false: librdkafka finds them once created
            log.warning("kafka group %s: topic(s) %s missing; waiting for them", self._group, ", ".join(gone))
        self._missing = gone

    @property
    def topics(self) -> list[str]:
        """The subscribed topics."""
        return list(self._subscriptions)

    def _measure_lag(self) -> None:
        """Per partition with known watermarks: the high watermark librdkafka last saw
        minus the first unsettled offset (or the fetch position)."""
        with self._lock:
            bases = {tp: (s.first_open(default=-1), s.committable) for tp, s in self._states.items() if s.live}
        lags: dict[Partition, int] = {}
        for tp, (base, settled) in bases.items():
            partition = TopicPartition(tp[0], tp[1])
            try:
                low, high = self._consumer.get_watermark_offsets(partition, cached=True)
                if base < 0:
                    base = settled if settled is not None else self._consumer.position([partition])[0].offset
            except KafkaException:
                continue
            if base < 0:  # nothing fetched yet: a new group starts at the low watermark
                base = low
            if high >= 0 and base >= 0:
                lags[tp] = max(0, high - base)
        self._lag = lags

    def _room(self) -> int:
        """How many messages to take now: waits (up to POLL_TIMEOUT) while the engine holds more
        than half of ``max.pending``, so that it fetches in batches. Pausing instead would make
        librdkafka drop and fetch again what it prefetched."""
        return min(FETCH_BATCH, self._lanes.room(POLL_TIMEOUT))

    def _fetch(self, consumer: Any, room: int) -> list[Message]:
        """Up to ``room`` messages: wait (up to POLL_TIMEOUT) for the first one only, then take
        what is already fetched. ``consume(n, timeout)`` returns only once n messages came or
        the timeout passed: alone, it held every message of a quiet topic for POLL_TIMEOUT."""
        if not room:
            return list(consumer.consume(num_messages=1, timeout=0))
        first = consumer.poll(POLL_TIMEOUT)
        if first is None:
            return []
        return [first, *consumer.consume(num_messages=room - 1, timeout=0)] if room > 1 else [first]

    def _receive(self, messages: list[Message]) -> None:
        """Hand fetched messages to the engine, each on the lane of its partition and key (a
        batch handler's: of its partition)."""
        work: list[tuple[Lane, Work]] = []
        batched, states = self._batched, self._states
        tp: Partition | None = None  # PERF: messages come in runs of one partition, looked up once a run
        state: OffsetTracker | None = None
        keyed = True
        with self._lock:
            for message in messages:
                error = message.error()
                if error is not None:
                    self._log_error(error)
                    continue
                topic, partition, offset = message.topic(), message.partition(), message.offset()
                # a consumed message has all three (they are None only on error events)
                assert topic is not None and partition is not None and offset is not None  # nosec B101 # narrows types
                if tp is None or partition != tp[1] or topic != tp[0]:
                    tp = (topic, partition)
                    state = states.get(tp)
                    keyed = topic not in batched
                if state is None or not state.live:
                    continue  # fetched just before a revoke or a rewind: it will be fetched again
                state.add(offset)
                work.append(((topic, partition, message.key() if keyed else None), (state, message, offset)))
            self._lanes.submit_locked(work)

    def _log_error(self, error: KafkaError) -> None:
        if error.code() in (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN, KafkaError._RESOLVE):
            self._topics.outage.down(error.str())
        elif error.code() != KafkaError._PARTITION_EOF:
            level = logging.ERROR if error.fatal() else logging.WARNING
            log.log(level, "kafka consumer of group %s: %s", self._group, error.str())

    def _reconcile_pause(self) -> None:
        """Rewind the partitions whose hold after a Nack is over; pause those still held."""
        now = time.monotonic()
        for tp, (offset, until) in list(self._held.items()):
            if until <= now:
                del self._held[tp]
                self._seek(tp, offset)
        with self._lock:
            wanted = set(self._held) & set(self._states)
        pause, resume = wanted - self._paused, self._paused - wanted
        if pause:
            self._consumer.pause([TopicPartition(t, p) for t, p in pause])
        if resume:
            self._consumer.resume([TopicPartition(t, p) for t, p in resume])
        self._paused = wanted

    def _seek(self, tp: Partition, offset: int) -> None:
        """Fetch ``tp`` again from ``offset`` and accept its messages again."""
        try:
            self._consumer.seek(TopicPartition(tp[0], tp[1], offset))
        except KafkaException as e:
            log.warning("kafka seek of %s[%d] to %d failed, retrying: %s", tp[0], tp[1], offset, e.args[0].str())
            self._held[tp] = (offset, time.monotonic() + self._redelivery_delay)
            return
        with self._lock:
            state = self._states.get(tp)
            if state is not None:
                state.live = True

    def _apply_nacks(self) -> None:
        """Rewind each partition with a message the core gave back to its first unsettled
        message, after a pause.

        Until the rewind the partition is paused and what it fetched is dropped; what
        was settled before that message is committed now. Messages of the partition
        still in flight are fetched again too (at-least-once): none is skipped.
        """
        commits: dict[Partition, int] = {}
        rewinds: dict[Partition, tuple[int, float]] = {}
        with self._lock:
            nacks, self._nacks = self._nacks, []
            for state, tp, offset in nacks:
                if self._states.get(tp) is not state or tp in rewinds:
                    continue  # revoked or already rewound
                rewinds[tp] = (state.first_open(default=offset), state.held_until)
                self._states[tp] = state.successor()
                if (settled := state.to_commit()) is not None:
                    commits[tp] = settled
        self._commit_states(commits)
        for tp, (offset, until) in rewinds.items():
            log.info("kafka %s[%d]: a message was given back; fetching again from offset %d in %.1fs",
                     tp[0], tp[1], offset, self._redelivery_delay)
            self._held[tp] = (offset, until)

    def _commit(self, asynchronous: bool) -> None:
        """Commit progress: asynchronously while consuming, synchronously (all of it) at a handover."""
        self._last_commit = time.monotonic()
        with self._lock:
            offsets = {tp: o for tp, s in self._states.items() if (o := s.to_commit(not asynchronous)) is not None}
        self._commit_states(offsets, asynchronous)

    def _commit_states(self, offsets: dict[Partition, int], asynchronous: bool = True) -> None:
        if not offsets:
            return
        try:
            self._consumer.commit(
                offsets=[TopicPartition(t, p, o) for (t, p), o in offsets.items()], asynchronous=asynchronous
            )
        except KafkaException as e:
            log.warning("kafka commit of group %s failed: %s", self._group, e.args[0].str())
            return
        with self._lock:
            for tp, offset in offsets.items():
                state = self._states.get(tp)
                if state is not None:
                    state.committed = offset

    # -- rebalance callbacks (on the poll thread) ----------------------------------

    def _on_assign(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        with self._lock:
            for tp in partitions:
                self._states[(tp.topic, tp.partition)] = OffsetTracker()
        self._assigned = True
        log.info("kafka group %s: assigned %s", self._group, _names(partitions))

    def _on_revoke(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        """Finish what is in flight on the revoked partitions (bounded), commit it, hand over."""
        self._assigned = False
        revoked = [(tp.topic, tp.partition) for tp in partitions]
        deadline = time.monotonic() + self._revoke_timeout
        if self._close_deadline is not None:
            deadline = min(deadline, self._close_deadline)
        with self._lock:
            states = [s for tp in revoked if (s := self._states.get(tp)) is not None]
            for state in states:
                state.live = False
            self._lanes.changed.wait_for(
                lambda: all(s.in_flight == 0 for s in states), max(0.0, deadline - time.monotonic())
            )
        self._commit(asynchronous=False)
        self._drop(revoked)
        log.info("kafka group %s: revoked %s", self._group, _names(partitions))

    def _on_lost(self, consumer: Any, partitions: list[TopicPartition]) -> None:
        """Partitions taken away without a handover: nothing may be committed for them."""
        self._assigned = False
        with self._lock:
            for tp in partitions:
                state = self._states.get((tp.topic, tp.partition))
                if state is not None:
                    state.live = False
        self._drop([(tp.topic, tp.partition) for tp in partitions])
        log.warning("kafka group %s: lost %s", self._group, _names(partitions))

    def _drop(self, partitions: list[Partition]) -> None:
        with self._lock:
            for tp in partitions:
                self._states.pop(tp, None)
                self._held.pop(tp, None)
                self._paused.discard(tp)

    def _on_error(self, error: KafkaError) -> None:
        if error.fatal():
            self._fatal = error.str()
            log.error("kafka consumer of group %s fatal error: %s", self._group, error.str())

    def _on_commit(self, error: KafkaError | None, partitions: list[TopicPartition]) -> None:
        if error is not None:
            log.warning("kafka commit of group %s failed: %s", self._group, error.str())

    def _shut_down(self) -> None:
        deadline = self._close_deadline or time.monotonic()
        self._lanes.stop()
        if not self._lanes.drain(deadline):
            log.warning("kafka group %s: %d message(s) still in flight at shutdown; they will be redelivered",
                        self._group, self._lanes.in_flight)
        with self._lock:
            for state in self._states.values():
                if state.in_flight:
                    state.live = False
        self._commit(asynchronous=False)
        self._leave_group(deadline)
        try:
            self._consumer.close()
        except KafkaException as e:
            log.warning("kafka consumer of group %s closed with an error: %s", self._group, e.args[0].str())
        self._lanes.join(0.1)

    def _leave_group(self, deadline: float) -> None:
        """Unsubscribe and serve the revocation here, so that ``close()`` has no rebalance
        callback left to run: confluent-kafka's callback asks librdkafka for the rebalance
        protocol, which can block forever while the consumer closes (librdkafka #4041)."""
        try:
            self._consumer.unsubscribe()
            end = max(deadline, time.monotonic() + 1.0)
            while self._consumer.assignment() and time.monotonic() < end:
                self._consumer.consume(num_messages=1, timeout=0.05)  # not received: redelivered later
        except KafkaException as e:
            log.warning("kafka group %s: leaving the group failed: %s", self._group, e.args[0].str())

    # -- the engine's port (called by its workers, under its lock where it says so) -----

    def message(self, item: Work) -> IncomingMessage:
        state, message, offset = item
        return incoming(message, message.partition() or 0, offset)

    def take(self, item: Work) -> bool:
        return item[0].take(item[2])

    def settled(self, item: Work, outcome: Outcome) -> bool:
        state, message, offset = item
        if state.settle(offset, outcome, self._redelivery_delay):  # held: the poll thread rewinds it
            self._nacks.append((state, (message.topic() or "", message.partition() or 0), offset))
        return state.handed_over  # a revoke or rewind waits for this

    def worth_finishing(self, item: Work) -> bool:
        return item[0].worth_finishing(item[2])

    def dead_letter(self, letter: OutgoingMessage) -> None:
        self._producer.send([letter], self._settle_timeout)


def _names(partitions: list[TopicPartition]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "nothing"
