"""After a handler succeeded: encode the queued events and publish them through the broker hooks."""

from __future__ import annotations

import logging
import uuid

import pluggy

from ..context import Context
from ..errors import PublishError
from ..event import Event, encode, event_key
from ..messages import Headers, OutgoingMessage
from ..options import WriteOptions

log = logging.getLogger("spine.publish")


def to_message(event: Event, topic_prefix: str, correlation_id: str) -> OutgoingMessage:
    """The wire form of ``event``: topic = prefix + name, JSON value, key and headers."""
    name = event.name()
    key = event_key(event)
    headers = {
        Headers.EVENT_NAME: name,
        Headers.EVENT_ID: uuid.uuid4().hex,
        Headers.OCCURRED_AT: event.occurred_at().isoformat(),
        Headers.CONTENT_TYPE: "application/json",
        Headers.CORRELATION_ID: correlation_id,
    }
    if key is not None:
        headers[Headers.KEY] = key
    return OutgoingMessage(topic_prefix + name, encode(event), key, headers)


class Dispatcher:
    """Publishes a context's queued events and waits for the broker's confirmation."""

    def __init__(self, hook: pluggy.HookRelay, topic_prefix: str, write: WriteOptions | None) -> None:
        self._publish = hook.spine_publish
        self._prefix = topic_prefix
        self._write = write

    def __call__(self, ctx: Context) -> None:
        """Publish and clear ``ctx.events``; raises PublishError when not confirmed."""
        if self._write is None:
            raise PublishError("this app has no write options: it cannot publish events")
        messages = [to_message(e, self._prefix, ctx.correlation_id) for e in ctx.events]
        ctx.events.clear()
        try:
            self._publish(messages=messages, timeout=self._write.publish_timeout)
        except PublishError:
            log.error("publishing %d event(s) failed (correlation id %s)", len(messages), ctx.correlation_id)
            raise
        except Exception as e:
            log.exception("broker failed while publishing (correlation id %s)", ctx.correlation_id)
            raise PublishError(f"broker error: {e}") from e
