"""Dead letters on RabbitMQ: the ``<topic>.dlq`` queue, read with ``basic.get``.

Listing takes every message the queue holds (as many as it counted when asked)
without acknowledging any, then closes the connection, so RabbitMQ puts them all
back. Replay takes them the same way, republishes each chosen one through the
plugin's confirming publisher and acknowledges it on the queue only once the
republish was confirmed; the others go back when the connection closes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel

from spine_core.errors import SpineError
from spine_core.messages import Headers, StoredDeadLetter

from .config import RabbitMQSettings
from .connection import describe
from .publisher import Publisher

NOT_FOUND = 404


class DeadLetterError(SpineError):
    """The dead-letter queue could not be read."""


@contextmanager
def _channel(settings: RabbitMQSettings, timeout: float) -> Iterator[BlockingChannel]:
    params = settings.parameters()
    params.socket_timeout = params.blocked_connection_timeout = timeout
    try:
        connection = pika.BlockingConnection(params)
    except pika.exceptions.AMQPError as e:
        raise DeadLetterError(f"cannot connect to RabbitMQ at {settings.url}: {describe(e)}") from None
    try:
        yield connection.channel()
    except pika.exceptions.AMQPError as e:
        raise DeadLetterError(f"RabbitMQ failed: {describe(e)}") from None
    finally:
        if connection.is_open:
            connection.close()  # what was taken and not acknowledged goes back to the queue


def _take(channel: BlockingChannel, queue: str) -> Iterator[tuple[int, StoredDeadLetter]]:
    """Each message in ``queue`` now, unacknowledged, with its delivery tag; none if no queue."""
    try:
        count = channel.queue_declare(queue, passive=True).method.message_count
    except pika.exceptions.ChannelClosedByBroker as e:
        if e.reply_code == NOT_FOUND:
            return
        raise
    for index in range(count):
        method, properties, body = channel.basic_get(queue, auto_ack=False)
        if method is None:
            return
        headers = _text_headers(properties.headers or {})
        position = {"queue": queue, "index": str(index)}
        yield method.delivery_tag, StoredDeadLetter(queue, body, headers.get(Headers.KEY), headers, position)


def list_waiting(settings: RabbitMQSettings, topic: str, timeout: float) -> list[StoredDeadLetter]:
    """The dead letters in queue ``topic``, oldest first, all left in the queue."""
    with _channel(settings, timeout) as channel:
        return [letter for _, letter in _take(channel, topic)]


def replay(
    settings: RabbitMQSettings, publisher: Publisher, topic: str, event_ids: Sequence[str] | None, timeout: float
) -> list[StoredDeadLetter]:
    """Republish the chosen dead letters of queue ``topic``, acknowledging each once confirmed."""
    done = []
    with _channel(settings, timeout) as channel:
        for tag, letter in _take(channel, topic):
            if event_ids is None or letter.event_id in event_ids:
                publisher.publish([letter.replay()], timeout)  # PublishError: it stays in the queue
                channel.basic_ack(tag)
                done.append(letter)
    return done


def _text_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    """Spine's text headers; RabbitMQ's own (``x-death``, ``x-delivery-count``) are left out."""
    text = {}
    for name, value in headers.items():
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, (str, int, float)) and not name.startswith("x-"):
            text[name] = str(value)
    return text
