"""Dead letters on Redis: the entries of the stream ``<topic>.dlq``; a replayed one is deleted
(``XDEL``) once its copy on the original stream was confirmed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis

from spine_core.broker import SpineError, StoredDeadLetter, as_text

from .consumer import incoming
from .publisher import Publisher


def list_waiting(client: redis.Redis, topic: str) -> list[StoredDeadLetter]:
    """Every entry of dead-letter stream ``topic``, oldest first (none if it does not exist)."""
    try:
        entries: list[Any] = client.xrange(topic) or []
    except redis.RedisError as e:
        raise SpineError(f"Redis did not list {topic}: {e}") from e
    letters = []
    for raw_id, fields in entries:
        message = incoming(topic, as_text(raw_id), fields)
        letters.append(StoredDeadLetter(topic, message.value, message.key, message.headers, message.position))
    return letters


def replay(client: redis.Redis, publisher: Publisher, topic: str, event_ids: Sequence[str] | None,
           timeout: float) -> list[StoredDeadLetter]:
    """Publish back the chosen dead letters of ``topic`` in order, each deleted from the
    dead-letter stream only after its copy was confirmed; the ones replayed."""
    chosen = [d for d in list_waiting(client, topic) if event_ids is None or d.event_id in event_ids]
    replayed = []
    for letter in chosen:
        publisher.publish([letter.replay()], timeout)  # raises PublishError: it and the rest stay
        try:
            client.xdel(topic, letter.position["entry-id"])
        except redis.RedisError as e:
            raise SpineError(f"replayed {letter.event_id} but could not delete it from {topic}: {e}") from e
        replayed.append(letter)
    return replayed
