"""The outermost guard: one log context per message, and ``deliver``'s promise never to raise."""

from __future__ import annotations

import logging

from ...context import current
from ...messages import NACK, Deliver, IncomingMessage, Settlement
from ..settle import where

log = logging.getLogger("spine.consumer")


def guarded(deliver: Deliver) -> Deliver:
    """``deliver`` with the log context of its attempts cleared once the message is settled,
    and a ``Nack`` (redelivery) instead of an exception, which would be a bug in Spine."""

    def guard(message: IncomingMessage) -> Settlement:
        token = current.set(None)
        try:
            return deliver(message)
        except Exception:
            log.exception("consumer chain failed on %s %s", message.topic, where(message))
            return NACK
        finally:
            current.reset(token)

    return guard
