"""Publishing: each message to the subject of its topic, confirmed by JetStream's publish acknowledgement.

A batch is sent in order on the one connection (``publish_async``), then every acknowledgement is
awaited within the timeout. A topic's stream is created the first time it is published to or
consumed (unless ``create.streams`` is off): one stream per topic, whose only subject is the topic,
so no stream's subjects overlap another's (``order.created`` and ``order.created.dlq`` are two).
Spine's headers travel as NATS headers, the key as ``event-key``; a value holding a line break
(a dead letter's error message) is percent-quoted and named in ``spine-quoted``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from urllib.parse import quote, unquote

import nats
from nats.js import api
from nats.js.errors import BadRequestError, NoStreamResponseError

from spine_core.broker import Headers, OutgoingMessage, PublishError, error_text, text_headers

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


class Publisher:
    """Publishes on the plugin's connection and makes the streams; used by requests and dead letters."""

    def __init__(self, connection: Connection, settings: NatsSettings) -> None:
        self._connection = connection
        self._settings = settings
        self._streams: set[str] = set()
        """Topics whose stream is known to exist (on the loop only)."""
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
        try:
            connection.call(self._publish(messages, timeout), timeout + 0.5)
        except (nats.errors.Error, asyncio.TimeoutError, TimeoutError, ConnectionError) as e:
            raise PublishError(f"NATS did not confirm {len(messages)} message(s) to {topics}: {error_text(e)}") from e

    async def _publish(self, messages: Sequence[OutgoingMessage], timeout: float) -> None:
        for attempt in (1, 2):
            if self._settings.create_streams:
                for topic in {m.topic for m in messages}:
                    await self.ensure_stream(topic)
            try:
                await asyncio.wait_for(self._send(messages), timeout)
                return
            except NoStreamResponseError:
                if attempt == 2 or not self._settings.create_streams:
                    raise
                self._streams.difference_update(m.topic for m in messages)  # deleted since: make it again

    async def _send(self, messages: Sequence[OutgoingMessage]) -> None:
        js = self._connection.js
        acks = [await js.publish_async(m.topic, m.value, headers=nats_headers(m)) for m in messages]
        try:
            await asyncio.gather(*acks)
        finally:
            for ack in acks:
                ack.cancel()  # those not answered in time: nats-py forgets them

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
