"""Publishing: one idempotent producer, batches that wait for every report of their
messages, and one thread at a time serving the delivery reports.

PERF: a sending thread serves the reports itself when no other thread is (it is woken
by librdkafka directly, not by a thread in between); while it does, other senders sleep
until their last report, or until it hands the polling over to one of them. A background
thread polls between sends, for reports and errors that come while nobody sends.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from spine_core.broker import BootError, OutgoingMessage, PublishError, redact

from .topics import TopicError, Topics

log = logging.getLogger("spine.kafka")

POLL_INTERVAL = 0.1
STALL_CHECK_TIMEOUT = 0.5
"""After a publish timed out, how long to wait for the cluster's metadata (is it there at all?)."""

_Record = tuple[str, bytes | None, str | bytes | None, list[tuple[str, str | bytes | None]]]
"""topic, value, key, headers: what one ``produce`` call sends."""


class _Batch:
    """The delivery reports one ``send`` waits for; its sender sleeps on a lock that the last
    report releases (or the polling thread, to hand the polling over to it)."""

    __slots__ = ("_left", "errors", "_wake", "_count_lock", "elected")

    def __init__(self, count: int) -> None:
        self._left = count
        self.errors: list[str] = []
        self._wake = threading.Lock()
        self._wake.acquire()
        self._count_lock = threading.Lock() if count > 1 else None  # one report needs no counting
        self.elected = False
        """Set (under the producer's state lock) when this batch's sender is to poll next."""

    @property
    def done(self) -> bool:
        return self._left <= 0

    def report(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self.errors.append(f"{message.topic()}: {error.str()}")
        if self._count_lock is not None:
            with self._count_lock:
                self._left -= 1
                if self._left:
                    return
        else:
            self._left = 0
        self.wake()

    def wake(self) -> None:
        try:
            self._wake.release()
        except RuntimeError:  # already woken: elected to poll, then confirmed
            pass

    def sleep(self, timeout: float) -> None:
        self._wake.acquire(timeout=max(0.0, timeout))


class Publisher:
    """One producer shared by every thread of the process (requests and dead-lettering)."""

    def __init__(self, config: dict[str, Any], topics: Topics) -> None:
        self.fatal: str | None = None
        """librdkafka's fatal error, if one happened: the producer is replaced at the next publish."""
        self._config = {**config, "error_cb": self._on_error}
        try:
            self._producer = Producer(self._config)
        except KafkaException as e:
            raise BootError(redact(f"kafka producer configuration refused: {e.args[0].str()}")) from None
        self._topics = topics
        self._closed = False
        self._renewing = threading.Lock()
        self._state = threading.Lock()
        self._polling = False
        """A thread is serving the reports (only one may: a report served by another would
        leave the poller sleeping in librdkafka until the next one)."""
        self._waiting: dict[_Batch, None] = {}
        """Senders sleeping until their reports come, oldest first."""
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._serve_reports, name="spine-kafka-producer", daemon=True)
        self._thread.start()

    def _serve_reports(self) -> None:
        """Between sends: serve what came (late reports, errors) every POLL_INTERVAL."""
        while not self._closing.wait(POLL_INTERVAL):
            with self._state:
                if self._polling:
                    continue
                self._polling = True
            try:
                self._producer.poll(0)
            finally:
                self._hand_over()

    def _await(self, batch: _Batch, deadline: float) -> None:
        """Until ``batch`` is confirmed or ``deadline``: serve the reports if no thread does, else sleep."""
        if batch.done:  # nothing sent
            return
        with self._state:
            polls = not self._polling
            if polls:
                self._polling = True
            else:
                self._waiting[batch] = None
        if not polls:
            batch.sleep(deadline - time.monotonic())
            with self._state:
                if not batch.elected:  # confirmed, or out of time
                    self._waiting.pop(batch, None)
                    return
        try:
            while not batch.done:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._producer.poll(min(left, POLL_INTERVAL))
        finally:
            self._hand_over()

    def _hand_over(self) -> None:
        """Stop serving the reports: wake the oldest sender still waiting for its own to serve them."""
        with self._state:
            while self._waiting:
                batch = next(iter(self._waiting))
                del self._waiting[batch]
                if not batch.done:
                    batch.elected = True
                    batch.wake()
                    return
            self._polling = False

    def _on_error(self, error: KafkaError) -> None:
        if error.fatal():
            self.fatal = error.str()
            log.error("kafka producer fatal error: %s", error.str())

    def send(self, messages: Sequence[OutgoingMessage], timeout: float) -> None:
        """Produce ``messages`` in order and wait for all their delivery reports.

        Raises PublishError if one failed or not all came within ``timeout`` seconds.
        """
        records: list[_Record] = [(m.topic, m.value, m.key, list(m.headers.items())) for m in messages]
        self._send(records, timeout)

    def _send(self, records: list[_Record], timeout: float) -> None:
        if self._closed:
            raise PublishError("the kafka producer is closed")
        if self.fatal is not None:
            self._renew(self._producer, f"fatal error {self.fatal}")
        deadline = time.monotonic() + timeout
        try:
            self._topics.ensure((r[0] for r in records), timeout)
        except TopicError as e:
            raise PublishError(str(e)) from None
        producer = self._producer
        batch = _Batch(len(records))
        for record in records:
            self._produce(producer, record, batch, deadline)
        self._await(batch, deadline)
        if not batch.done or batch.errors:  # the cluster may have lost the topics: check them on the next send
            self._topics.forget(r[0] for r in records)
        if not batch.done:
            self._stalled(producer)
            raise PublishError(f"kafka did not confirm {len(records)} message(s) within {timeout:.1f}s")
        if batch.errors:
            raise PublishError("kafka refused message(s): " + "; ".join(batch.errors[:3]))
        self._topics.outage.up()

    def _stalled(self, producer: Producer) -> None:
        """A publish was not confirmed in time. If the cluster answers all the same, it may have
        been restarted empty: ``producer`` is replaced (librdkafka's idempotent producer keeps
        retrying with a producer id the new broker does not know)."""
        if self._topics.reachable(STALL_CHECK_TIMEOUT) is None:
            self._renew(producer, "publish not confirmed while the cluster answers")

    def _renew(self, used: Producer, why: str) -> None:
        """Replace ``used`` with a new producer (new producer id, new connections): a broker
        that came back without its state (in-memory Tansu restarted, a cluster rebuilt) never
        confirms the old idempotent producer's messages again, nor does a fatally failed one."""
        with self._renewing:
            if self._producer is not used:
                return  # another thread renewed it already
            self._producer = Producer(self._config)
            self.fatal = None
        log.warning("kafka producer replaced (%s); its unconfirmed messages fail", why)
        used.purge()  # what it still holds fails now, instead of at each batch's deadline
        used.flush(0)

    def _produce(self, producer: Producer, record: _Record, batch: _Batch, deadline: float) -> None:
        topic, value, key, headers = record
        while True:
            try:
                producer.produce(topic, value, key=key, headers=headers, on_delivery=batch.report)
                return
            except BufferError:  # the local queue is full: wait for room until the deadline
                if time.monotonic() >= deadline:
                    raise PublishError("kafka producer queue full: broker not keeping up") from None
                producer.flush(min(POLL_INTERVAL, deadline - time.monotonic()))
            except KafkaException as e:
                raise PublishError(f"kafka refused message for {topic!r}: {e.args[0].str()}") from None

    def close(self, timeout: float) -> None:
        """Flush what is queued (up to ``timeout``) and stop serving reports; later publishes fail."""
        self._closed = True
        left = self._producer.flush(max(0.0, timeout))
        if left:
            log.warning("kafka producer closed with %d message(s) not confirmed", left)
        self._closing.set()
        self._thread.join(timeout=POLL_INTERVAL * 5)


def __getattr__(name: str) -> Any:
    """``KafkaPublisher``: the deprecated name of :class:`Publisher` (every broker's is ``Publisher``)."""
    if name == "KafkaPublisher":
        warnings.warn("spine_kafka.publisher.KafkaPublisher is now Publisher", DeprecationWarning, stacklevel=2)
        return Publisher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
