"""Events and small helpers shared by the core tests."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from attrs import frozen

from spine_core import BrokerOptions, Event, HTTPOptions, Options, ReadOptions, RetryOptions, WriteOptions
from spine_core.event import to_message
from spine_memory import MemoryBroker

AT = datetime(2024, 5, 1, 12, 30, tzinfo=timezone.utc)


@frozen
class OrderCreated:
    """An event with a key, as in the seed."""

    order_id: int
    at: datetime = AT

    def name(self) -> str:
        return "order.created"

    def occurred_at(self) -> datetime:
        return self.at

    def key(self) -> str:
        return str(self.order_id)


@frozen
class OrderShipped:
    """An event without a key."""

    order_id: int
    at: datetime = AT

    def name(self) -> str:
        return "order.shipped"

    def occurred_at(self) -> datetime:
        return self.at


def options(
    *,
    write: bool = True,
    group: str | None = None,
    prefix: str = "",
    http: bool = True,
    publish_timeout: float = 5.0,
    attempts: int = 3,
    initial_delay: float = 0.01,
    address: str = "127.0.0.1:0",
    shutdown_timeout: float = 5.0,
    server: str = "waitress",
) -> Options:
    """Options for a test app on the memory broker; fast retries by default."""
    read = None
    if group is not None:
        read = ReadOptions(group_id=group, retry=RetryOptions(attempts=attempts, initial_delay=initial_delay))
    return Options(
        address=address,
        shutdown_timeout=shutdown_timeout,
        broker=BrokerOptions(
            name="memory",
            topic_prefix=prefix,
            write=WriteOptions(publish_timeout=publish_timeout) if write else None,
            read=read,
        ),
        http=HTTPOptions(server=server) if http else None,
    )


SERVERS = ("waitress", "granian")
"""Every HTTP server a Service can run; served tests run on each."""


def payload(value: bytes) -> object:
    """The JSON document of a message value."""
    return json.loads(value)


def send(broker: MemoryBroker, *events: Event, prefix: str = "", correlation_id: str = "test") -> None:
    """Publish ``events`` straight to ``broker``, encoded as an app would."""
    broker.publish([to_message(e, prefix, correlation_id) for e in events], timeout=1.0)
