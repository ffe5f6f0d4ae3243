"""The exchange every service declares, and where events no queue is bound to go.

Events go to a durable topic exchange (``exchange``). An event whose routing key
no queue is bound to yet (it was published before any consumer group of its
topic existed) would be returned to the publisher; with ``unrouted`` on (the
default) the exchange has an *alternate exchange*, ``<exchange>.unrouted``
(fanout), into the durable queue ``<exchange>.unrouted``: RabbitMQ confirms the
event and keeps it there, with its routing key, for an operator to see and move.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from pika.channel import Channel

from .config import RabbitMQSettings

Step = Callable[..., Any]
"""A pika channel call that takes ``callback=`` for its reply."""


def exchange_steps(channel: Channel, settings: RabbitMQSettings) -> Iterator[Step]:
    """Declare the unrouted exchange and queue (if on), then the topic exchange."""
    arguments = {}
    if settings.unrouted:
        name = settings.unrouted_name
        arguments["alternate-exchange"] = name
        yield partial(channel.exchange_declare, name, exchange_type="fanout", durable=True)
        yield partial(channel.queue_declare, name, durable=True, arguments={"x-queue-type": settings.queue_type})
        yield partial(channel.queue_bind, name, name)
    yield partial(channel.exchange_declare, settings.exchange, exchange_type="topic", durable=True,
                  arguments=arguments)


def run_steps(steps: Iterator[Step], then: Callable[[], None]) -> None:
    """Run ``steps`` one after the other (each on the reply to the last), then ``then``."""
    step = next(steps, None)
    if step is None:
        then()
    else:
        step(callback=lambda _frame: run_steps(steps, then))
