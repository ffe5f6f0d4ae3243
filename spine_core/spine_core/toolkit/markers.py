"""Replay on an append-only log (memory, Kafka): a marker message records each replayed dead letter.

A log cannot delete one message, and a group offset can only skip a prefix, so
``spine dlq replay --event-id`` of a later dead letter needs another record:
after the replayed copy is confirmed, a marker is appended to the dead-letter
topic itself, with an empty value and the ``dead-letter-replayed`` header naming
the dead letter's position. Listing reads the whole topic and leaves out the
markers and the dead letters they name. A dead letter dead-lettered again after
its replay has a new position, so it is listed again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from ..messages import Headers, OutgoingMessage, StoredDeadLetter

REPLAYED = "dead-letter-replayed"
"""The marker's header: the position (``partition=0 offset=5``) of the dead letter it replayed."""


def position_text(position: Mapping[str, str]) -> str:
    """A position as one comparable string: ``partition=0 offset=5``."""
    return " ".join(f"{k}={v}" for k, v in sorted(position.items()))


def marker(letter: StoredDeadLetter) -> OutgoingMessage:
    """The marker that records ``letter`` as replayed, on its own dead-letter topic."""
    headers = {REPLAYED: position_text(letter.position), Headers.EVENT_ID: letter.event_id}
    return OutgoingMessage(letter.topic, b"", letter.key, headers)


def waiting(stored: Iterable[StoredDeadLetter]) -> list[StoredDeadLetter]:
    """The dead letters of a whole dead-letter topic that no marker names, oldest first
    (by their ``dead-letter-at`` header; in the given order where it is equal or missing)."""
    stored = list(stored)
    replayed = {s.headers[REPLAYED] for s in stored if REPLAYED in s.headers}
    left = [s for s in stored if REPLAYED not in s.headers and position_text(s.position) not in replayed]
    return sorted(left, key=lambda s: s.headers.get(Headers.DEAD_LETTERED_AT, ""))


def replay(
    stored: Iterable[StoredDeadLetter],
    event_ids: Sequence[str] | None,
    publish: Callable[[Sequence[OutgoingMessage]], None],
) -> list[StoredDeadLetter]:
    """Publish back each waiting dead letter chosen by ``event_ids`` (all when None), then its
    marker, each confirmed by ``publish`` (which raises PublishError); the ones replayed."""
    chosen = [s for s in waiting(stored) if event_ids is None or s.event_id in event_ids]
    for letter in chosen:
        publish([letter.replay()])
        publish([marker(letter)])
    return chosen
