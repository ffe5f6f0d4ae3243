"""Publishing with publisher confirms: request threads hand batches to the I/O thread and wait.

Every message goes to the topic exchange with routing key = its topic, persistent
and ``mandatory``. A batch is confirmed when RabbitMQ acked each of its messages;
a nack, a return (no queue bound to the routing key, and no alternate exchange:
see :mod:`.topology`) or a lost connection fails it.
"""

from __future__ import annotations

import collections
import logging
import threading
import uuid
from collections.abc import Sequence

import pika
from pika.adapters.select_connection import SelectConnection
from pika.channel import Channel
from pika.frame import Method
from pika.spec import Basic, BasicProperties

from spine_core.broker import Headers, OutgoingMessage, PublishError, error_text

from .config import RabbitMQSettings
from .connection import ConnectionLoop
from .topology import exchange_steps, run_steps

log = logging.getLogger("spine.rabbitmq")


class _Batch:
    """Messages of one ``publish`` call and the outcome the caller waits for."""

    def __init__(self, messages: Sequence[OutgoingMessage]) -> None:
        self.messages = messages
        self.unconfirmed = len(messages)
        self.error: str | None = None
        self.done = threading.Event()

    def confirm_one(self) -> None:
        self.unconfirmed -= 1
        if self.unconfirmed <= 0:
            self.done.set()

    def fail(self, reason: str) -> None:
        if not self.done.is_set():
            self.error = reason
            self.done.set()


class Publisher:
    """One confirming publisher connection per process, safe to call from any thread."""

    def __init__(self, settings: RabbitMQSettings) -> None:
        self._settings = settings
        self._exchange = settings.exchange
        self._loop = ConnectionLoop(settings.parameters(), "spine-rabbitmq-publisher", self._open, self._lost)
        self._lock = threading.Lock()
        self._pending: collections.deque[_Batch] = collections.deque()
        self._channel: Channel | None = None  # I/O thread only, like everything below
        self._tag = 0
        self._unconfirmed: dict[int, tuple[_Batch, str]] = {}
        self._by_id: dict[str, _Batch] = {}
        self.started = False

    @property
    def loop(self) -> ConnectionLoop:
        return self._loop

    @property
    def ready(self) -> bool:
        return self._channel is not None

    def start(self) -> None:
        if not self.started:
            self.started = True
            self._loop.start()

    def publish(self, messages: Sequence[OutgoingMessage], timeout: float) -> None:
        """Publish ``messages`` in order and wait for RabbitMQ's confirms; raises PublishError."""
        if not messages:
            return
        batch = _Batch(messages)
        with self._lock:
            self._pending.append(batch)
        if not self._loop.call_soon(self._flush):
            batch.fail("the RabbitMQ publisher is closed")
        if not batch.done.wait(timeout):
            with self._lock:
                if batch in self._pending:
                    self._pending.remove(batch)
            state = "" if self._loop.connected else f"; not connected: {self._loop.last_error}"
            raise PublishError(f"RabbitMQ did not confirm {len(messages)} message(s) within {timeout}s{state}")
        if batch.error is not None:
            raise PublishError(batch.error)

    def close(self, timeout: float) -> None:
        """Close the connection; batches not yet confirmed fail."""
        self._loop.close(timeout)
        with self._lock:
            pending, self._pending = list(self._pending), collections.deque()
        for batch in pending:
            batch.fail("the RabbitMQ publisher closed")

    # -- I/O thread -----------------------------------------------------------

    def _open(self, connection: SelectConnection) -> None:
        connection.channel(on_open_callback=self._channel_open)

    def _channel_open(self, channel: Channel) -> None:
        channel.add_on_close_callback(self._channel_closed)
        channel.add_on_return_callback(self._returned)
        channel.confirm_delivery(
            ack_nack_callback=self._confirmed,
            callback=lambda _: run_steps(exchange_steps(channel, self._settings), lambda: self._ready(channel)),
        )

    def _ready(self, channel: Channel) -> None:
        self._channel = channel
        self._flush()

    def _flush(self) -> None:
        channel = self._channel
        while channel is not None and channel.is_open:
            with self._lock:
                if not self._pending:
                    return
                batch = self._pending.popleft()
            for message in batch.messages:
                self._send(channel, batch, message)

    def _send(self, channel: Channel, batch: _Batch, message: OutgoingMessage) -> None:
        headers = dict(message.headers)
        message_id = headers.get(Headers.EVENT_ID) or uuid.uuid4().hex
        properties = BasicProperties(
            delivery_mode=pika.DeliveryMode.Persistent,
            content_type=headers.get(Headers.CONTENT_TYPE),
            correlation_id=headers.get(Headers.CORRELATION_ID),
            message_id=message_id,
            headers=headers,
        )
        self._tag += 1
        self._unconfirmed[self._tag] = (batch, message_id)
        self._by_id[message_id] = batch
        channel.basic_publish(self._exchange, message.topic, message.value, properties, mandatory=True)

    def _confirmed(self, frame: Method) -> None:
        method = frame.method
        acked = isinstance(method, Basic.Ack)
        tags = [t for t in self._unconfirmed if t <= method.delivery_tag] if method.multiple else [method.delivery_tag]
        for tag in tags:
            entry = self._unconfirmed.pop(tag, None)
            if entry is None:
                continue
            batch, message_id = entry
            self._by_id.pop(message_id, None)
            if acked:
                batch.confirm_one()
            else:
                batch.fail("RabbitMQ refused the message (basic.nack)")

    def _returned(self, channel: Channel, method: Basic.Return, properties: BasicProperties, body: bytes) -> None:
        batch = self._by_id.get(properties.message_id or "")
        if batch is not None:
            batch.fail(
                f"RabbitMQ returned the message: no queue is bound to routing key {method.routing_key!r} "
                f"on exchange {method.exchange!r} ({method.reply_code} {method.reply_text})"
            )

    def _channel_closed(self, channel: Channel, reason: BaseException) -> None:
        self._channel = None
        self._fail_unconfirmed(f"RabbitMQ channel closed before confirming: {error_text(reason)}")
        if isinstance(reason, pika.exceptions.ChannelClosedByBroker):
            hint = ""
            if "alternate-exchange" in error_text(reason):
                hint = (f" (exchange {self._exchange!r} was declared without the alternate exchange for unrouted "
                        "events: delete it once, or set SPINE_RABBITMQ_UNROUTED=false)")
            log.error("publisher channel closed: %s%s", error_text(reason), hint)
            self._loop.reopen(error_text(reason))

    def _lost(self, reason: str) -> None:
        self._channel = None
        self._fail_unconfirmed(f"connection to RabbitMQ lost before confirming: {reason}")

    def _fail_unconfirmed(self, reason: str) -> None:
        for batch, _ in self._unconfirmed.values():
            batch.fail(reason)
        self._unconfirmed.clear()
        self._by_id.clear()
        self._tag = 0
