"""Dead letters on Kafka: a dead-letter topic read whole by a short-lived consumer, replay
confirmed by the plugin's producer and recorded with a marker message in the dead-letter
topic itself (see :mod:`spine_core.toolkit.markers`).

The reading consumer assigns every partition from its low watermark up to the
high watermark taken when it starts, and never commits: listing changes
nothing, and no consumer group holds any state for the dead letters.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, TopicPartition

from spine_core.broker import SpineError, StoredDeadLetter, dlq_markers

from .consumer import incoming
from .publisher import Publisher

POLL = 0.2


class DeadLetterError(SpineError):
    """The dead-letter topic could not be read."""


def read(config: dict[str, Any], topic: str, timeout: float) -> list[StoredDeadLetter]:
    """Every message of ``topic`` up to its current end, markers included, partition by partition."""
    deadline = time.monotonic() + timeout
    consumer = Consumer({**config, "enable.partition.eof": False})
    try:
        ends = _ends(consumer, topic, timeout)
        consumer.assign([TopicPartition(topic, p, low) for p, (low, _) in ends.items()])
        found: dict[int, list[StoredDeadLetter]] = {p: [] for p in ends}
        while ends:
            message = consumer.poll(max(0.0, min(POLL, deadline - time.monotonic())))
            if message is None:
                if time.monotonic() >= deadline:
                    raise DeadLetterError(f"kafka did not return all of {topic} within {timeout:.1f}s")
                continue
            error = message.error()
            if error is not None:
                raise DeadLetterError(f"reading {topic} failed: {error.str()}")
            partition, offset = message.partition() or 0, message.offset() or 0
            found[partition].append(_stored(message, partition, offset))
            if partition in ends and offset >= ends[partition][1] - 1:
                del ends[partition]
        return [letter for p in sorted(found) for letter in found[p]]
    except KafkaException as e:
        raise DeadLetterError(f"reading {topic} failed: {e.args[0].str()}") from None
    finally:
        consumer.close()


def _ends(consumer: Consumer, topic: str, timeout: float) -> dict[int, tuple[int, int]]:
    """(low, high) watermark of each partition of ``topic`` that has messages; none if no topic."""
    metadata = consumer.list_topics(topic, timeout=timeout).topics.get(topic)
    if metadata is None or metadata.error is not None:
        if metadata is None or metadata.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
            return {}
        raise DeadLetterError(f"kafka cannot describe {topic}: {metadata.error.str()}")
    ends = {}
    for p in metadata.partitions:
        low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=timeout)
        if high > low:
            ends[p] = (low, high)
    return ends


def _stored(message: Message, partition: int, offset: int) -> StoredDeadLetter:
    m = incoming(message, partition, offset)
    return StoredDeadLetter(m.topic, m.value, m.key, m.headers, m.position)


def replay(
    config: dict[str, Any], producer: Publisher, topic: str, event_ids: Sequence[str] | None, timeout: float
) -> list[StoredDeadLetter]:
    """Publish back the chosen dead letters of ``topic`` and mark them replayed; the ones replayed."""
    stored = read(config, topic, timeout)
    return dlq_markers.replay(stored, event_ids, lambda messages: producer.send(messages, timeout))
