"""Dead letters on NATS: the messages of the stream of ``<topic>.dlq``, read by sequence (no consumer
is made); a replayed one is deleted from that stream once its copy on the original topic was confirmed."""

from __future__ import annotations

import base64
from collections.abc import Sequence

import nats
from nats.js.errors import NotFoundError

from spine_core.broker import Headers, SpineError, StoredDeadLetter, error_text

from .config import stream_name
from .connection import Connection
from .publisher import Publisher, spine_headers


def list_waiting(connection: Connection, topic: str, timeout: float) -> list[StoredDeadLetter]:
    """Every message of dead-letter topic ``topic``, oldest first (none if it has no stream)."""
    try:
        return [letter for _, letter in connection.call(_letters(connection, topic), timeout)]
    except (nats.errors.Error, TimeoutError, ConnectionError) as e:
        raise SpineError(f"NATS did not list {topic}: {error_text(e)}") from e


def replay(connection: Connection, publisher: Publisher, topic: str, event_ids: Sequence[str] | None,
           timeout: float) -> list[StoredDeadLetter]:
    """Publish back the chosen dead letters of ``topic`` in order, each deleted from the dead-letter
    stream only after its copy was confirmed; the ones replayed."""
    try:
        chosen = [(seq, letter) for seq, letter in connection.call(_letters(connection, topic), timeout)
                  if event_ids is None or letter.event_id in event_ids]
    except (nats.errors.Error, TimeoutError, ConnectionError) as e:
        raise SpineError(f"NATS did not list {topic}: {error_text(e)}") from e
    replayed = []
    for seq, letter in chosen:
        publisher.publish([letter.replay()], timeout)  # raises PublishError: it and the rest stay
        try:
            connection.call(connection.js.delete_msg(stream_name(topic), seq), timeout)
        except (nats.errors.Error, TimeoutError, ConnectionError) as e:
            raise SpineError(f"replayed {letter.event_id} but could not delete it from {topic}: "
                             f"{error_text(e)}") from e
        replayed.append(letter)
    return replayed


async def _letters(connection: Connection, topic: str) -> list[tuple[int, StoredDeadLetter]]:
    js, name = connection.js, stream_name(topic)
    try:
        state = (await js.stream_info(name)).state
    except NotFoundError:
        return []
    letters = []
    for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
        try:
            raw = await js.get_msg(name, seq)
        except NotFoundError:  # deleted (replayed)
            continue
        headers = spine_headers(_headers(raw.hdrs))
        position = {"stream": name, "sequence": str(seq)}
        letters.append((seq, StoredDeadLetter(topic, raw.data or b"", headers.get(Headers.KEY), headers, position)))
    return letters


def _headers(encoded: bytes | str | None) -> dict[str, str]:
    """Headers of a stored message (``NATS/1.0`` then ``name: value`` lines), as sent."""
    if not encoded:
        return {}
    lines = base64.b64decode(encoded).decode("utf-8", "replace").split("\r\n")[1:]
    pairs = (line.partition(":") for line in lines if line)
    return {name: value.strip() for name, _, value in pairs}
