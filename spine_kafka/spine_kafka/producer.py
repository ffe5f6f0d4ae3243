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

_Record = tuple[str, bytes | None, str | bytes | None, list[tuple[str, str | bytes | None]]]
"""topic, value, key, headers: what one ``produce`` call sends."""


class _Batch:
    """The delivery reports one ``send`` waits for.

    PERF: the waiter blocks on a lock that the last report releases: one lock and one
    wake-up, where an ``Event`` makes a Condition, a lock per wait and a notify loop."""

    __slots__ = ("_left", "_errors", "_done", "_count_lock")

    def __init__(self, count: int) -> None:
        self._left = count
        self._errors: list[str] = []
        self._done = threading.Lock()
        self._count_lock = threading.Lock() if count > 1 else None  # one report needs no counting
        if count:
            self._done.acquire()

    def report(self, error: KafkaError | None, message: Message) -> None:
        if error is not None:
            self._errors.append(f"{message.topic()}: {error.str()}")
        if self._count_lock is not None:
            with self._count_lock:
                self._left -= 1
                if self._left:
                    return
        self._done.release()

    def wait(self, timeout: float) -> list[str] | None:
        """The delivery errors, or None if some report did not come within ``timeout``."""
        if not self._done.acquire(timeout=max(0.0, timeout)):
            return None
        return self._errors


class KafkaProducer:
    """One producer shared by every thread of the process (requests and dead-lettering)."""

    def __init__(self, config: dict[str, Any], topics: Topics) -> None:
        self.fatal: str | None = None
        """librdkafka's fatal error, if one happened: the producer cannot publish any more."""
        try:
            self._producer = Producer({**config, "error_cb": self._on_error})
        except KafkaException as e:
            raise BootError(f"kafka producer configuration refused: {e.args[0].str()}") from None
        self._topics = topics
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
        deadline = time.monotonic() + timeout
        try:
            self._topics.ensure((r[0] for r in records), timeout)
        except TopicError as e:
            raise PublishError(str(e)) from None
        batch = _Batch(len(records))
        for record in records:
            self._produce(record, batch, deadline)
        errors = batch.wait(deadline - time.monotonic())
        if errors is None:
            raise PublishError(f"kafka did not confirm {len(records)} message(s) within {timeout:.1f}s")
        if errors:
            raise PublishError("kafka refused message(s): " + "; ".join(errors[:3]))

    def _produce(self, record: _Record, batch: _Batch, deadline: float) -> None:
        topic, value, key, headers = record
        while True:
            try:
                self._producer.produce(topic, value, key=key, headers=headers, on_delivery=batch.report)
                return
            except BufferError:  # the local queue is full: wait for room until the deadline
                if time.monotonic() >= deadline:
                    raise PublishError("kafka producer queue full: broker not keeping up") from None
                self._producer.flush(min(POLL_INTERVAL, deadline - time.monotonic()))
            except KafkaException as e:
                raise PublishError(f"kafka refused message for {topic!r}: {e.args[0].str()}") from None

    def close(self, timeout: float) -> None:
        """Flush what is queued (up to ``timeout``) and stop serving reports."""
        left = self._producer.flush(max(0.0, timeout))
        if left:
            log.warning("kafka producer closed with %d message(s) not confirmed", left)
        self._closing.set()
        self._thread.join(timeout=POLL_INTERVAL * 5)
