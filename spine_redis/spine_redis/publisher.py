"""Publishing: one ``XADD`` per message, a batch in one pipeline, confirmed by the entry ids
Redis answers. A message is a stream entry: its value in ``value``, its key in ``key`` and
each header in ``h:<name>``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import redis

from spine_core.broker import OutgoingMessage, PublishError

from .config import RedisSettings

VALUE: bytes = b"value"
KEY: bytes = b"key"
HEADER: bytes = b"h:"


def entry_fields(message: OutgoingMessage) -> dict[bytes, bytes]:
    """The stream entry of ``message``."""
    fields = {VALUE: message.value}
    if message.key is not None:
        fields[KEY] = message.key.encode()
    fields.update({HEADER + name.encode(): value.encode() for name, value in message.headers.items()})
    return fields


class Publisher:
    """A pooled client shared by request threads and dead-lettering; ``timeout`` bounds each command."""

    def __init__(self, settings: RedisSettings, timeout: float) -> None:
        self.client = settings.client(timeout)
        self._maxlen = settings.maxlen or None
        self._closed = False

    def publish(self, messages: Sequence[OutgoingMessage], timeout: float) -> None:
        """Append ``messages`` in order; return once Redis answered an id for each, else PublishError."""
        if self._closed:
            raise PublishError("the Redis publisher is closed")
        if not messages:
            return
        pipe = self.client.pipeline(transaction=False)
        for message in messages:
            fields: dict[Any, Any] = entry_fields(message)
            pipe.xadd(message.topic, fields, maxlen=self._maxlen, approximate=True)
        try:
            pipe.execute()
        except redis.RedisError as e:
            topics = ", ".join(sorted({m.topic for m in messages}))
            raise PublishError(f"Redis did not confirm {len(messages)} message(s) to {topics}: {e}") from e

    def close(self) -> None:
        self._closed = True
        self.client.close()
