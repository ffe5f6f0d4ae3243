"""Consuming: one queue per group and topic, worker lanes keyed by event key, manual acks.

The I/O thread owns the connection: it declares the topology, receives messages
and sends acks. Each subscription has ``workers`` lanes, each a thread; a message
goes to the lane of its key, so one key's messages are handed to ``deliver`` one
at a time in the order RabbitMQ delivered them, while other keys run in parallel.
Settlements go back to the I/O thread. A message is acked only after its
``deliver`` returned ``Ack`` (or after its dead letter was confirmed); messages
not settled when a connection is lost or closed are redelivered by RabbitMQ.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
import time
import zlib
from functools import partial
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pika
from attrs import frozen
from pika.adapters.select_connection import SelectConnection
from pika.channel import Channel
from pika.spec import Basic, BasicProperties

from spine_core.errors import BootError, PublishError
from spine_core.messages import (
    NACK, Ack, DeadLetter, Headers, IncomingMessage, Nack, OutgoingMessage, Settlement, Subscription,
)

from .config import RabbitMQSettings, queue_name
from .connection import ConnectionLoop, describe
from .topology import exchange_steps

log = logging.getLogger("spine.rabbitmq")

REQUEUE_PAUSE = 1.0
"""Seconds before a message that could not be settled (its dead letter was not confirmed, or
``deliver`` raised) is handed back to RabbitMQ: no hot loop; the delivery limit ends it."""

OnMessage = Callable[[Channel, Basic.Deliver, BasicProperties, bytes], None]
Step = Callable[..., Any]
"""A pika channel call that takes ``callback=`` for its reply."""


@frozen
class _Delivery:
    generation: int
    tag: int
    subscription: Subscription
    message: IncomingMessage


Lane = queue.SimpleQueue[_Delivery | None]
"""One worker thread's messages: the same key always goes to the same lane, in delivery order."""


class Consumer:
    """One member of consumer group ``group_id``, consuming every subscription's queue."""

    def __init__(
        self,
        settings: RabbitMQSettings,
        group_id: str,
        subscriptions: Sequence[Subscription],
        dead_letter: Callable[[OutgoingMessage], None],
        dead_letter_suffix: str,
    ) -> None:
        self._settings = settings
        self._group_id = group_id
        self._subscriptions = list(subscriptions)
        self._dead_letter = dead_letter
        self._suffix = dead_letter_suffix
        self._loop = ConnectionLoop(settings.parameters(), f"spine-rabbitmq-{group_id}", self._open, self._lost)
        self.queues = [name for s in self._subscriptions
                       for name in (queue_name(group_id, s.topic), s.topic + dead_letter_suffix)]
        """Every queue this consumer declares: its group's queues and their dead-letter queues."""
        self._lanes = {s.topic: [Lane() for _ in range(settings.workers)] for s in self._subscriptions}
        self._workers = [
            threading.Thread(target=self._work, args=(lane,), name=f"spine-rabbitmq-{topic}-{i}", daemon=True)
            for topic, lanes in self._lanes.items() for i, lane in enumerate(lanes)
        ]
        self._cond = threading.Condition()
        self._closing = False
        self._in_flight = 0
        self._settlements: list[tuple[int, Callable[[Channel], None]]] = []
        self._settle_scheduled = False
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
        for worker in self._workers:
            worker.start()
        self._loop.start()
        self._loop.attempted.wait(timeout)
        self._booted.wait(max(0.0, deadline - time.monotonic()))
        error = describe(self._loop.fatal) if self._loop.fatal else self._setup_error
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
        for lane in (lane for lanes in self._lanes.values() for lane in lanes):
            lane.put(None)
        with self._cond:
            if not self._cond.wait_for(lambda: not self._in_flight, timeout):
                log.warning("shutdown timeout: %d message(s) still being handled are left for redelivery",
                            self._in_flight)
        self._loop.close(max(0.1, deadline - time.monotonic()))

    # -- worker threads ---------------------------------------------------------

    def _work(self, lane: Lane) -> None:
        while (delivery := lane.get()) is not None:
            with self._cond:
                if self._closing or delivery.generation != self._generation:
                    continue  # its channel is gone or going: RabbitMQ redelivers it
                self._in_flight += 1
            try:
                self._settle(delivery, self._deliver(delivery))
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _deliver(self, delivery: _Delivery) -> Settlement:
        try:
            return delivery.subscription.deliver(delivery.message)
        except Exception:  # deliver never raises; if it does, keep the message and the worker
            log.exception("deliver raised on %s; the message goes back to the queue", delivery.message.topic)
            time.sleep(REQUEUE_PAUSE)
            return NACK

    def _settle(self, delivery: _Delivery, settlement: Settlement) -> None:
        tag = delivery.tag
        if isinstance(settlement, Ack):
            self._on_channel(delivery, lambda ch: ch.basic_ack(tag))
        elif isinstance(settlement, Nack):
            self._on_channel(delivery, lambda ch: ch.basic_reject(tag, requeue=True))
        elif isinstance(settlement, DeadLetter):
            message = delivery.message
            letter = OutgoingMessage(settlement.topic, message.value, message.key,
                                     {**message.headers, **settlement.reason})
            try:
                self._dead_letter(letter)
            except PublishError as e:
                log.error("dead letter to %s not confirmed (%s); the message goes back to %s",
                          settlement.topic, e, message.position.get("queue"))
                time.sleep(REQUEUE_PAUSE)
                self._on_channel(delivery, lambda ch: ch.basic_reject(tag, requeue=True))
            else:
                self._on_channel(delivery, lambda ch: ch.basic_ack(tag))

    def _on_channel(self, delivery: _Delivery, action: Callable[[Channel], None]) -> None:
        """Run ``action`` on the I/O thread if the delivery's channel is still open.

        Settlements are queued and the I/O thread is woken once per batch, not per message."""
        with self._cond:
            self._settlements.append((delivery.generation, action))
            wake, self._settle_scheduled = not self._settle_scheduled, True
        if wake:
            self._loop.call_soon(self._run_settlements)

    def _run_settlements(self) -> None:
        with self._cond:
            settlements, self._settlements = self._settlements, []
            self._settle_scheduled = False
        channel = self._channel
        for generation, action in settlements:
            if channel is not None and channel.is_open and generation == self._generation:
                action(channel)

    # -- I/O thread -------------------------------------------------------------

    def _open(self, connection: SelectConnection) -> None:
        connection.channel(on_open_callback=self._channel_open)

    def _channel_open(self, channel: Channel) -> None:
        channel.add_on_close_callback(self._channel_closed)
        channel.add_on_cancel_callback(lambda frame: self._loop.reopen("RabbitMQ cancelled a consumer"))
        self._run_steps(iter(self._setup_steps(channel)), lambda: self._consuming(channel))

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

    def _run_steps(self, steps: Iterator[Step], then: Callable[[], None]) -> None:
        step = next(steps, None)
        if step is None:
            then()
        else:
            step(callback=lambda _frame: self._run_steps(steps, then))

    def _consuming(self, channel: Channel) -> None:
        self._channel = channel
        log.info("consumer group %r consuming %s", self._group_id,
                 ", ".join(queue_name(self._group_id, s.topic) for s in self._subscriptions))
        self._booted.set()

    def _receiver(self, name: str, sub: Subscription) -> OnMessage:
        lanes = self._lanes[sub.topic]
        unkeyed = itertools.count()

        def receive(channel: Channel, method: Basic.Deliver, properties: BasicProperties, body: bytes) -> None:
            headers = _text_headers(properties.headers or {})
            position = {"queue": name, "delivery-tag": str(method.delivery_tag),
                        "redelivered": str(bool(method.redelivered)).lower()}
            if "x-delivery-count" in headers:
                position["delivery-count"] = headers["x-delivery-count"]
            message = IncomingMessage(method.routing_key, body, headers.get(Headers.KEY), headers, position)
            key = message.key
            index = zlib.crc32(key.encode()) if key is not None else next(unkeyed)
            lanes[index % len(lanes)].put(_Delivery(self._generation, method.delivery_tag, sub, message))

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
            log.error("consumer group %r: RabbitMQ closed the channel: %s", self._group_id, describe(reason))
            if not self._booted.is_set():
                self._setup_error = describe(reason)
                self._booted.set()
            self._loop.reopen(describe(reason))

    def _lost(self, reason: str) -> None:
        self._forget_channel()

    def _forget_channel(self) -> None:
        with self._cond:
            self._generation += 1
        self._channel = None
        self._consumer_tags = []


def _text_headers(headers: Mapping[str, Any]) -> dict[str, str]:
    """AMQP header values as text; tables and arrays (e.g. RabbitMQ's ``x-death``) are left out."""
    text = {}
    for name, value in headers.items():
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, (str, int, float)):
            text[name] = str(value)
    return text
