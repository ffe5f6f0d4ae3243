"""Dead letters on RabbitMQ: the ``<topic>.dlq`` queue, read with ``basic.get``.

Listing takes every message the queue holds (as many as it counted when asked)
without acknowledging any, then closes the channel, so RabbitMQ puts them all
back. Replay takes them the same way, republishes each chosen one through the
plugin's confirming publisher and acknowledges it on the queue only once the
republish was confirmed; the others go back when the channel closes. Putting back
is asynchronous on a quorum queue, so both wait (up to their timeout) until the
queue counts the messages put back again: a listing right after sees them all.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection

from spine_core.broker import Headers, SpineError, StoredDeadLetter, error_text, text_headers

from .config import RabbitMQSettings
from .publisher import Publisher

NOT_FOUND = 404
PUT_BACK_POLL = 0.05


class DeadLetterError(SpineError):
    """The dead-letter queue could not be read."""


@contextmanager
def _connection(settings: RabbitMQSettings, timeout: float) -> Iterator[BlockingConnection]:
    params = settings.parameters()
    params.socket_timeout = params.blocked_connection_timeout = timeout
    try:
        connection = pika.BlockingConnection(params)
    except pika.exceptions.AMQPError as e:
        raise DeadLetterError(f"cannot connect to RabbitMQ at {settings.shown_url}: {error_text(e)}") from None
    try:
        yield connection
    except pika.exceptions.AMQPError as e:
        raise DeadLetterError(f"RabbitMQ failed: {error_text(e)}") from None
    finally:
        if connection.is_open:
            connection.close()


def _put_back(connection: BlockingConnection, channel: BlockingChannel, queue: str, count: int, timeout: float) -> None:
    """Close ``channel`` (its unacknowledged messages go back to ``queue``) and wait up to
    ``timeout`` until the queue holds at least ``count`` ready messages again."""
    if channel.is_open:
        channel.close()
    if not count:
        return
    deadline = time.monotonic() + timeout
    probe = connection.channel()
    try:
        while probe.queue_declare(queue, passive=True).method.message_count < count:
            if time.monotonic() > deadline:
                return  # another client took some: nothing to wait for
            time.sleep(PUT_BACK_POLL)
    finally:
        if probe.is_open:
            probe.close()


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
        headers = text_headers(properties.headers, skip_prefix="x-")  # not RabbitMQ's own (x-death)
        position = {"queue": queue, "index": str(index)}
        yield method.delivery_tag, StoredDeadLetter(queue, body, headers.get(Headers.KEY), headers, position)


def list_waiting(settings: RabbitMQSettings, topic: str, timeout: float) -> list[StoredDeadLetter]:
    """The dead letters in queue ``topic``, oldest first, all left in the queue."""
    with _connection(settings, timeout) as connection:
        channel = connection.channel()
        letters = [letter for _, letter in _take(channel, topic)]
        _put_back(connection, channel, topic, len(letters), timeout)
        return letters


def replay(
    settings: RabbitMQSettings, publisher: Publisher, topic: str, event_ids: Sequence[str] | None, timeout: float
) -> list[StoredDeadLetter]:
    """Republish the chosen dead letters of queue ``topic``, acknowledging each once confirmed."""
    done = []
    with _connection(settings, timeout) as connection:
        channel = connection.channel()
        taken = list(_take(channel, topic))
        try:
            for tag, letter in taken:
                if event_ids is None or letter.event_id in event_ids:
                    publisher.publish([letter.replay()], timeout)  # PublishError: it stays in the queue
                    channel.basic_ack(tag)
                    done.append(letter)
        finally:
            _put_back(connection, channel, topic, len(taken) - len(done), timeout)
    return done
