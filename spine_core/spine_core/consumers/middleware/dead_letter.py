"""Dead-lettering: a message whose handling failed for good goes to ``<topic><suffix>``."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from ...messages import DeadLetter, Deliver, Headers, IncomingMessage, Settlement
from ..settle import where
from .decode import Undecodable
from .retry import RetriesExhausted

log = logging.getLogger("spine.consumer")


def dead_letter_reason(message: IncomingMessage, error: BaseException, attempts: int) -> dict[str, str]:
    """Headers that say why and from where a message was dead-lettered."""
    reason = {
        Headers.ERROR_TYPE: type(error).__qualname__,
        Headers.ERROR_MESSAGE: str(error)[:1000],
        Headers.ATTEMPTS: str(attempts),
        Headers.ORIGINAL_TOPIC: message.topic,
        Headers.DEAD_LETTERED_AT: datetime.now(timezone.utc).isoformat(),
    }
    reason.update({f"dead-letter-original-{k}": v for k, v in message.position.items()})
    return reason


def dead_lettering(deliver: Deliver, suffix: str, name: str) -> Deliver:
    """``deliver`` whose failures become a :class:`DeadLetter` with the reason: an undecodable
    payload at once (0 attempts), a handler once its retries are spent."""

    def dead_letter(message: IncomingMessage) -> Settlement:
        try:
            return deliver(message)
        except Undecodable as e:
            log.error("undecodable message on %s %s dead-lettered: %s", message.topic, where(message), e)
            return DeadLetter(message.topic + suffix, dead_letter_reason(message, e.cause, 0))
        except RetriesExhausted as e:
            log.error("handler %s failed %d time(s) on %s %s; dead-lettered",
                      name, e.attempts, message.topic, where(message), exc_info=e.error)
            return DeadLetter(message.topic + suffix, dead_letter_reason(message, e.error, e.attempts))
        except Exception as e:  # raised by a middleware around the retries
            log.error("consumer middleware failed on %s %s; dead-lettered",
                      message.topic, where(message), exc_info=e)
            return DeadLetter(message.topic + suffix, dead_letter_reason(message, e, 0))

    return dead_letter
