"""Retry with backoff: a failed attempt is tried again, up to ``RetryOptions.attempts``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from ...messages import NACK, Deliver, IncomingMessage, Settlement
from ...options import RetryOptions
from .decode import Undecodable

log = logging.getLogger("spine.consumer")


class RetriesExhausted(Exception):
    """Every attempt failed; ``__cause__`` is the last error."""

    def __init__(self, error: Exception, attempts: int) -> None:
        super().__init__(f"{attempts} attempt(s) failed: {type(error).__name__}: {error}")
        self.error = error
        self.attempts = attempts


def retrying(attempt: Deliver, retry: RetryOptions, stopping: threading.Event, name: str,
             retried: Callable[[], None] | None = None) -> Deliver:
    """``attempt`` run until it succeeds, with the delays of ``retry`` between failures.

    Raises :class:`RetriesExhausted` when every attempt failed (an :class:`Undecodable`
    payload is not retried); answers ``Nack`` when the consumer stops during a delay, so
    the message is redelivered rather than dead-lettered.
    """
    attempts = max(1, retry.attempts)

    def deliver(message: IncomingMessage) -> Settlement:
        for n in range(1, attempts + 1):
            try:
                return attempt(message)
            except Undecodable:
                raise
            except Exception as e:
                if n == attempts:
                    raise RetriesExhausted(e, n) from e
                delay = retry.delay(n)
                if retried is not None:
                    retried()
                log.warning("handler %s failed (attempt %d of %d): %s: %s; retrying in %.2fs",
                            name, n, attempts, type(e).__name__, e, delay)
                if stopping.wait(delay):
                    return NACK
        raise AssertionError("unreachable")

    return deliver
