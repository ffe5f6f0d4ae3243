"""Publishing: one idempotent producer, a thread serving its delivery reports, and batches
that wait for every report of their messages."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from spine_core.broker import BootError, OutgoingMessage, PublishError

from .topics import TopicError, Topics

log = logging.getLogger("spine.kafka")

POLL_INTERVAL = 0.1
STALL_CHECK_TIMEOUT = 0.5
"""After a publish timed out, how long to wait for the cluster's metadata (is it there at all?)."""

_Record = tuple[str, bytes | None, str | bytes | None, list[tuple[str, str | bytes | None]]]
"""topic, value, key, headers: what one ``produce`` call sends."""


class _Batch:
    """The delivery reports one ``send`` waits for."""

    def __init__(self, count: int) -> None:
        self._left = count
        self._errors: list[str] = []
        self._done = threading.Event()
        self._lock = threading.Lock()
        if not count:
            self._done.set()

    def report(self, error: KafkaError | None, message: Message) -> None:
        with self._lock:
            if error is not None:
                self._errors.append(f"{message.topic()}: {error.str()}")
            self._left -= 1
            if self._left <= 0:
                self._done.set()

    def wait(self, timeout: float) -> list[str] | None:
        """The delivery errors, or None if some report did not come within ``timeout``."""
        if not self._done.wait(max(0.0, timeout)):
            return None
        return self._errors


class KafkaProducer:
    """One producer shared by every thread of the process (requests and dead-lettering)."""

    def __init__(self, config: dict[str, Any], topics: Topics) -> None:
        self.fatal: str | None = None
        """librdkafka's fatal error, if one happened: the producer is replaced at the next publish."""
        self._config = {**config, "error_cb": self._on_error}
        try:
            self._producer = Producer(self._config)
        except KafkaException as e:
            raise BootError(f"kafka producer configuration refused: {e.args[0].str()}") from None
        self._topics = topics
        self._closed = False
        self._renewing = threading.Lock()
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._serve_reports, name="spine-kafka-producer", daemon=True)
        self._thread.start()

    def _serve_reports(self) -> None:
        while not self._closing.is_set():
            self._producer.poll(POLL_INTERVAL)

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

    def dead_letter(self, message: Message, topic: str, reason: Mapping[str, str], timeout: float) -> None:
        """Copy a consumed ``message`` (value, key, headers) to ``topic`` with ``reason`` added
        to its headers, and wait for the confirmation; raises PublishError."""
        headers = [*(message.headers() or ()), *reason.items()]
        self._send([(topic, message.value(), message.key(), headers)], timeout)

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
        errors = batch.wait(deadline - time.monotonic())
        if errors is None or errors:  # the cluster may have lost the topics: check them on the next send
            self._topics.forget(r[0] for r in records)
        if errors is None:
            self._stalled(producer)
            raise PublishError(f"kafka did not confirm {len(records)} message(s) within {timeout:.1f}s")
        if errors:
            raise PublishError("kafka refused message(s): " + "; ".join(errors[:3]))
        self._topics.outage.ok()

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

    def _stalled(self, producer: Producer) -> None:
        """A publish was not confirmed in time. If the cluster answers all the same, it may have
        been restarted empty: ``producer`` is replaced (librdkafka's idempotent producer keeps
        retrying with a producer id the new broker does not know)."""
        if self._topics.reachable(STALL_CHECK_TIMEOUT) is None:
            self._renew(producer, "publish not confirmed while the cluster answers")

    def close(self, timeout: float) -> None:
        """Flush what is queued (up to ``timeout``) and stop serving reports; later publishes fail."""
        self._closed = True
        left = self._producer.flush(max(0.0, timeout))
        if left:
            log.warning("kafka producer closed with %d message(s) not confirmed", left)
        self._closing.set()
        self._thread.join(timeout=POLL_INTERVAL * 5)
