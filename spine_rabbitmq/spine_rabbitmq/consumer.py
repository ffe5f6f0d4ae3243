"""Consuming: one queue per group and topic, delivered by the core's engine, manual acks.

The I/O thread owns the connection: it declares the topology, receives messages
and sends acks. Received messages go to the engine (:class:`spine_core.broker.Lanes`)
on the lane of their topic and key, so one key's messages are handed to ``deliver``
one at a time in the order RabbitMQ delivered them, while other keys (and unkeyed
messages) run in parallel on ``workers`` threads. Settlements go back to the I/O
thread through a :class:`~spine_core.broker.LoopHandoff` (the I/O thread is woken once per
batch). A message is acked only after it was settled (handled, or its dead letter
confirmed); one handed back is rejected to the queue after ``redelivery_delay``;
messages not settled when a connection is lost or closed are redelivered by RabbitMQ.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from typing import Any

import pika
from attrs import frozen
from pika.adapters.select_connection import SelectConnection
from pika.channel import Channel
from pika.spec import Basic, BasicProperties

from spine_core.broker import (
    BootError, Headers, IncomingMessage, Lanes, LoopHandoff, OutgoingMessage, Outcome, Subscription, error_text,
    text_headers,
)

from .config import RabbitMQSettings, queue_name
from .connection import ConnectionLoop
from .topology import Step, exchange_steps, run_steps

log = logging.getLogger("spine.rabbitmq")

OnMessage = Callable[[Channel, Basic.Deliver, BasicProperties, bytes], None]


@frozen
class _Delivery:
    generation: int
    tag: int
    message: IncomingMessage


class Consumer:
    """One member of consumer group ``group_id``, consuming every subscription's queue."""

    def __init__(
        self,
        settings: RabbitMQSettings,
        group_id: str,
        subscriptions: Sequence[Subscription],
        dead_letter: Callable[[OutgoingMessage], None],
        dead_letter_suffix: str,
        redelivery_delay: float,
    ) -> None:
        self._settings = settings
        self._group_id = group_id
        self._subscriptions = list(subscriptions)
        self.dead_letter = dead_letter
        self._suffix = dead_letter_suffix
        self._redelivery_delay = redelivery_delay
        self._loop = ConnectionLoop(settings.parameters(), f"spine-rabbitmq-{group_id}", self._open, self._lost)
        self.queues = [name for s in self._subscriptions
                       for name in (queue_name(group_id, s.topic), s.topic + dead_letter_suffix)]
        """Every queue this consumer declares: its group's queues and their dead-letter queues."""
        self._lanes: Lanes[_Delivery] = Lanes(
            self, self._subscriptions,
            workers=settings.workers, max_pending=settings.prefetch, name=f"rabbitmq-{group_id}",
        )
        self._cond = threading.Condition(self._lanes.lock)
        self._closing = False
        self._settlements: LoopHandoff[tuple[_Delivery, Outcome]] = LoopHandoff(
            self._lanes.lock, self._loop.call_soon, self._settle)
        self._booted = threading.Event()
        self._setup_error: str | None = None
        # I/O thread only:
        self._channel: Channel | None = None
        self._generation = 0
        self._consumer_tags: list[str] = []
        self._ready: dict[str, int] = {}

    @property
    def consuming(self) -> bool:
        return self._channel is not None and bool(self._consumer_tags)

    @property
    def last_error(self) -> str:
        return self._setup_error or self._loop.last_error

    def start(self, timeout: float) -> None:
        """Connect, declare the queues and start consuming; wait up to ``timeout`` for it.

        Raises BootError when RabbitMQ refuses the credentials or the topology
        (e.g. a queue of that name exists with other arguments). If RabbitMQ is
        only unreachable, consuming starts in the background once it is back.
        """
        deadline = time.monotonic() + timeout
        self._lanes.start()
        self._loop.start()
        self._loop.attempted.wait(timeout)
        self._booted.wait(max(0.0, deadline - time.monotonic()))
        error = error_text(self._loop.fatal) if self._loop.fatal else self._setup_error
        if error:
            self.close(1.0)
            raise BootError(f"RabbitMQ refused consumer group {self._group_id!r}: {error}")
        if not self._booted.is_set():
            log.warning("consumer group %r is not consuming yet: %s", self._group_id, self.last_error)

    def lag(self, timeout: float) -> dict[tuple[str, int], int]:
        """Messages ready in each subscription's queue (not yet delivered to any member), keyed
        ``(topic, 0)``: a queue has no partitions. Asks RabbitMQ, waiting up to ``timeout``;
        a queue that did not answer in time keeps its last known count."""
        answered = threading.Event()
        self._loop.call_soon(lambda: self._count_ready(answered))
        answered.wait(timeout)
        return {(topic, 0): count for topic, count in self._ready.items()}

    def close(self, timeout: float) -> None:
        """Stop consuming, wait up to ``timeout`` for ``deliver`` calls in flight, settle
        what they returned and close. Unsettled messages go back to the queue."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._closing = True
        self._loop.call_soon(self._cancel)
        self._lanes.stop()
        if not self._lanes.drain(deadline):
            log.warning("shutdown timeout: %d message(s) still being handled are left for redelivery",
                        self._lanes.in_flight)
        self._loop.close(max(0.1, deadline - time.monotonic()))
        self._lanes.join(0.1)

    # -- the engine's port (called by its workers, under its lock where it says so) -----

    def message(self, item: _Delivery) -> IncomingMessage:
        return item.message

    def take(self, item: _Delivery) -> bool:
        return not self._closing and item.generation == self._generation  # else RabbitMQ redelivers it

    def settled(self, item: _Delivery, outcome: Outcome) -> bool:
        self._settlements.put((item, outcome))  # applied on the I/O thread by _settle
        return False

    def worth_finishing(self, item: _Delivery) -> bool:
        return False

    # -- I/O thread -------------------------------------------------------------

    def _settle(self, settled: list[tuple[_Delivery, Outcome]]) -> None:
        """Ack what is done; reject what was handed back to the queue after a pause (no hot
        loop: the queue's delivery limit ends it). A delivery whose channel closed since is
        redelivered by RabbitMQ."""
        for delivery, outcome in settled:
            tag = delivery.tag
            if outcome is Outcome.DONE:
                self._run_on_channel(delivery.generation, lambda ch: ch.basic_ack(tag))
            else:
                self._loop.call_later(self._redelivery_delay, partial(
                    self._run_on_channel, delivery.generation, partial(_reject, tag=tag)))

    def _run_on_channel(self, generation: int, action: Callable[[Channel], None]) -> None:
        channel = self._channel
        if channel is not None and channel.is_open and generation == self._generation:
            action(channel)

    def _open(self, connection: SelectConnection) -> None:
        connection.channel(on_open_callback=self._channel_open)

    def _channel_open(self, channel: Channel) -> None:
        channel.add_on_close_callback(self._channel_closed)
        channel.add_on_cancel_callback(lambda frame: self._loop.reopen("RabbitMQ cancelled a consumer"))
        run_steps(iter(self._setup_steps(channel)), lambda: self._consuming(channel))

    def _setup_steps(self, channel: Channel) -> Iterator[Step]:
        """The declarations, each a call taking ``callback=``: QoS, the exchange, then per
        subscription its dead-letter queue, its group queue and the consumer."""
        settings = self._settings
        exchange = settings.exchange
        yield partial(channel.basic_qos, prefetch_count=settings.prefetch)
        yield from exchange_steps(channel, settings)
        for sub in self._subscriptions:
            name, dead = queue_name(self._group_id, sub.topic), sub.topic + self._suffix
            yield partial(channel.queue_declare, dead, durable=True, arguments={"x-queue-type": settings.queue_type})
            yield partial(channel.queue_bind, dead, exchange, routing_key=dead)
            yield partial(channel.queue_declare, name, durable=True, arguments=settings.queue_arguments(dead))
            yield partial(channel.queue_bind, name, exchange, routing_key=sub.topic)
            yield partial(self._consume, channel, name, sub)

    def _consume(self, channel: Channel, name: str, sub: Subscription, callback: Callable[[Any], None]) -> None:
        self._consumer_tags.append(channel.basic_consume(name, self._receiver(name, sub), callback=callback))

    def _consuming(self, channel: Channel) -> None:
        self._channel = channel
        log.info("consumer group %r consuming %s", self._group_id,
                 ", ".join(queue_name(self._group_id, s.topic) for s in self._subscriptions))
        self._booted.set()

    def _receiver(self, name: str, sub: Subscription) -> OnMessage:
        lanes = self._lanes
        unkeyed = itertools.count()

        def receive(channel: Channel, method: Basic.Deliver, properties: BasicProperties, body: bytes) -> None:
            headers = text_headers(properties.headers)
            position = {"queue": name, "delivery-tag": str(method.delivery_tag),
                        "redelivered": str(bool(method.redelivered)).lower()}
            if "x-delivery-count" in headers:
                position["delivery-count"] = headers["x-delivery-count"]
            key = headers.get(Headers.KEY)
            message = IncomingMessage(sub.topic, body, key, headers, position)
            lane = (sub.topic, key) if key is not None else (sub.topic, next(unkeyed))
            lanes.submit([(lane, _Delivery(self._generation, method.delivery_tag, message))])

        return receive

    def _count_ready(self, answered: threading.Event) -> None:
        channel = self._channel
        if channel is None or not channel.is_open:
            answered.set()
            return
        waiting = {s.topic for s in self._subscriptions}

        def counted(topic: str, frame: Any) -> None:
            self._ready[topic] = frame.method.message_count
            waiting.discard(topic)
            if not waiting:
                answered.set()

        for sub in self._subscriptions:
            channel.queue_declare(queue_name(self._group_id, sub.topic), passive=True,
                                  callback=partial(counted, sub.topic))

    def _cancel(self) -> None:
        channel = self._channel
        if channel is not None and channel.is_open:
            for tag in self._consumer_tags:
                channel.basic_cancel(tag)

    def _channel_closed(self, channel: Channel, reason: BaseException) -> None:
        self._forget_channel()
        if isinstance(reason, pika.exceptions.ChannelClosedByBroker):
            log.error("consumer group %r: RabbitMQ closed the channel: %s", self._group_id, error_text(reason))
            if not self._booted.is_set():
                self._setup_error = error_text(reason)
                self._booted.set()
            self._loop.reopen(error_text(reason))

    def _lost(self, reason: str) -> None:
        self._forget_channel()

    def _forget_channel(self) -> None:
        with self._cond:
            self._generation += 1
        self._channel = None
        self._consumer_tags = []


def _reject(channel: Channel, tag: int) -> None:
    channel.basic_reject(tag, requeue=True)
