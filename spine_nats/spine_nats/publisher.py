"""Publishing: each message to the subject of its topic, confirmed by JetStream's publish acknowledgement.

A batch is sent in order on the one connection (``publish_async``), then every acknowledgement is
awaited within the timeout; the calls of many threads go to the loop together
(see :class:`Publisher`). A topic's stream is created the first time it is published to or
consumed (unless ``create.streams`` is off): one stream per topic, whose only subject is the topic,
so no stream's subjects overlap another's (``order.created`` and ``order.created.dlq`` are two).
Spine's headers travel as NATS headers, the key as ``event-key``; a value holding a line break
(a dead letter's error message) is percent-quoted and named in ``spine-quoted``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, unquote

import nats
from nats.js import api
from nats.js.errors import BadRequestError, NoStreamResponseError

from spine_core.broker import AsyncioHandoff, Headers, OutgoingMessage, PublishError, error_text, text_headers

from .config import NatsSettings, stream_name
from .connection import Connection

QUOTED = "spine-quoted"
"""Header naming the headers whose values are percent-quoted (they held a line break)."""
NAME_IN_USE = 10058
"""JetStream's error code for a stream that exists with another configuration."""


def nats_headers(message: OutgoingMessage) -> dict[str, str]:
    """The NATS headers of ``message``: its headers and its key."""
    headers = dict(message.headers)
    if message.key is not None:
        headers[Headers.KEY] = message.key
    quoted = [name for name, value in headers.items() if "\n" in value or "\r" in value]
    for name in quoted:
        headers[name] = quote(headers[name])
    if quoted:
        headers[QUOTED] = ",".join(quoted)
    return headers


def spine_headers(raw: Mapping[str, object] | None) -> dict[str, str]:
    """Spine's headers from a NATS message's (NATS's own, ``Nats-*``, left out)."""
    headers = text_headers({k: str(v) for k, v in (raw or {}).items() if not k.startswith("Nats-")})
    for name in headers.pop(QUOTED, "").split(","):
        if name in headers:
            headers[name] = unquote(headers[name])
    return headers


class _Sent:
    """One ``publish`` call on its way: its messages, the caller's future, the acknowledgements left."""

    __slots__ = ("messages", "timeout", "future", "attempt", "_acks", "_timer")

    def __init__(self, messages: Sequence[OutgoingMessage], timeout: float) -> None:
        self.messages = messages
        self.timeout = timeout
        self.future: concurrent.futures.Future[None] = concurrent.futures.Future()
        self.attempt = 1
        self._acks: list[asyncio.Future[Any]] = []
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, acks: list[asyncio.Future[Any]], loop: asyncio.AbstractEventLoop,
              again: Callable[[_Sent], None]) -> None:
        """On the loop: settle the caller's future once every ack came, one failed, or time ran out."""
        self._acks = acks
        if self._timer is None:
            self._timer = loop.call_later(self.timeout, self.fail, asyncio.TimeoutError())
        for ack in acks:
            ack.add_done_callback(lambda done: self._acked(done, again))

    def _acked(self, ack: asyncio.Future[Any], again: Callable[[_Sent], None]) -> None:
        if self.future.done() or ack.cancelled():
            return
        error = ack.exception()
        if isinstance(error, NoStreamResponseError) and self.attempt == 1:
            self.attempt = 2  # the stream was deleted since it was made: make it again, send again
            self._cancel_acks()
            again(self)
        elif error is not None:
            self.fail(error)
        elif all(a.done() for a in self._acks):
            self._end()
            self.future.set_result(None)

    def fail(self, error: BaseException) -> None:
        if not self.future.done():
            self._end()
            self.future.set_exception(error)

    def _end(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._cancel_acks()

    def _cancel_acks(self) -> None:
        for ack in self._acks:
            ack.cancel()  # those not answered: nats-py forgets them


class Publisher:
    """Publishes on the plugin's connection and makes the streams; used by requests and dead letters.

    PERF: callers do not each send a coroutine to the loop. Their calls queue in a hand-off that
    wakes the loop once per burst; one task there sends every queued message (nats-py writes
    them together) and the acknowledgements settle each caller's future as they come.
    """

    def __init__(self, connection: Connection, settings: NatsSettings) -> None:
        self._connection = connection
        self._settings = settings
        self._streams: set[str] = set()
        """Topics whose stream is known to exist (on the loop only)."""
        self._outbox: AsyncioHandoff[_Sent] = AsyncioHandoff(threading.Lock(), connection.loop, self._send_all)
        self.closed = False

    def publish(self, messages: Sequence[OutgoingMessage], timeout: float) -> None:
        """Publish ``messages`` in order; return once JetStream acknowledged each, else PublishError."""
        if self.closed:
            raise PublishError("the NATS publisher is closed")
        if not messages:
            return
        connection = self._connection
        connection.start()
        connection.attempted.wait(timeout)  # a plugin used before its first connection attempt ended
        topics = ", ".join(sorted({m.topic for m in messages}))
        if not connection.connected:
            reason = connection.fatal or connection.outage.error or "not connected yet"
            raise PublishError(f"NATS at {self._settings.address} is unreachable ({reason}): "
                               f"{len(messages)} message(s) to {topics} not confirmed")
        sent = _Sent(messages, timeout)
        self._hand_over(sent)
        try:
            sent.future.result(timeout + 0.5)
        except concurrent.futures.TimeoutError:
            sent.future.cancel()  # not sent yet (the loop never got to it): it never will be
            raise PublishError(f"NATS did not confirm {len(messages)} message(s) to {topics}: "
                               f"no answer within {timeout:.1f}s") from None
        except (nats.errors.Error, asyncio.TimeoutError, TimeoutError, ConnectionError) as e:
            raise PublishError(f"NATS did not confirm {len(messages)} message(s) to {topics}: {error_text(e)}") from e

    def _hand_over(self, sent: _Sent) -> None:
        with self._outbox.lock:
            self._outbox.put(sent)

    async def _send_all(self, batch: list[_Sent]) -> None:
        """On the loop: send each call's messages in order; its acknowledgements settle it."""
        loop = asyncio.get_running_loop()
        for sent in batch:
            if sent.attempt == 1 and not sent.future.set_running_or_notify_cancel():
                continue  # its caller gave up before it was sent
            if sent.future.done():
                continue
            try:
                topics = {m.topic for m in sent.messages}
                if sent.attempt == 2:
                    self._streams.difference_update(topics)
                if self._settings.create_streams:
                    for topic in topics:
                        await self.ensure_stream(topic)
                js = self._connection.js
                acks = [await js.publish_async(m.topic, m.value, headers=nats_headers(m)) for m in sent.messages]
            except Exception as e:
                sent.fail(e)
                continue
            sent.watch(acks, loop, self._hand_over if self._settings.create_streams else self._no_stream)

    @staticmethod
    def _no_stream(sent: _Sent) -> None:
        """``create.streams`` is off: a missing stream fails the call."""
        sent.fail(NoStreamResponseError())

    async def ensure_stream(self, topic: str) -> str:
        """Create the stream of ``topic`` if it is missing; its name."""
        name = stream_name(topic)
        if topic in self._streams:
            return name
        settings = self._settings
        config = api.StreamConfig(
            name=name, subjects=[topic], retention=api.RetentionPolicy.LIMITS,
            storage=api.StorageType.FILE if settings.storage == "file" else api.StorageType.MEMORY,
            max_age=settings.max_age or None, max_bytes=settings.max_bytes, num_replicas=settings.replicas,
        )
        js = self._connection.js
        try:
            await js.add_stream(config)
        except BadRequestError as e:
            if e.err_code != NAME_IN_USE:
                raise
            info = await js.stream_info(name)  # made by hand, or with other limits: used as it is
            if topic not in (info.config.subjects or []):
                raise PublishError(f"NATS stream {name} exists for other subjects {info.config.subjects}, "
                                   f"not {topic}") from None
        self._streams.add(topic)
        return name
