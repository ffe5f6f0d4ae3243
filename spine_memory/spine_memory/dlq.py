"""Dead letters on the memory broker: read from its dead-letter topics, replayed with markers
(see :mod:`spine_core.toolkit.markers`)."""

from __future__ import annotations

from collections.abc import Sequence

from spine_core.broker import StoredDeadLetter, dlq_markers

from .broker import MemoryBroker


def stored(broker: MemoryBroker, topic: str) -> list[StoredDeadLetter]:
    """Every message of dead-letter topic ``topic``, markers included, partition by partition."""
    return [
        StoredDeadLetter(m.topic, m.value, m.key, dict(m.headers),
                         {"partition": str(m.partition), "offset": str(m.offset)})
        for m in broker.messages(topic)
    ]


def list_waiting(broker: MemoryBroker, topic: str) -> list[StoredDeadLetter]:
    """The dead letters of ``topic`` not yet replayed."""
    return dlq_markers.waiting(stored(broker, topic))


def replay(broker: MemoryBroker, topic: str, event_ids: Sequence[str] | None, timeout: float) -> list[StoredDeadLetter]:
    """Publish back the chosen dead letters of ``topic``; the ones replayed."""
    return dlq_markers.replay(stored(broker, topic), event_ids, lambda messages: broker.publish(messages, timeout))
