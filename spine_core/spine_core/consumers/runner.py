"""One message through the pipeline: decode, retry with backoff, then settle it."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from collections.abc import Callable, Mapping
from functools import partial

from .. import logs
from ..context import Context
from ..event import decoder
from ..instrument import NO_PROBE, ConsumerProbe
from ..messages import ACK, NACK, DeadLetter, Headers, IncomingMessage, Settlement
from ..options import ReadOptions
from ..pipeline.invoke import invoke
from ..pipeline.plan import Plan
from .resolvers import event_type

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


class MessageRunner:
    """The ``deliver`` callable of one subscription. Thread-safe; never raises."""

    def __init__(
        self,
        plan: Plan,
        read: ReadOptions,
        dispatch: Callable[[Context], None],
        stopping: threading.Event,
        probe: ConsumerProbe = NO_PROBE,
    ) -> None:
        self._plan = plan
        self._probe = probe
        kind = event_type(plan.annotations)
        self._decode: Callable[[bytes], object] | None = None if kind is None else decoder(kind)
        self._retry = read.retry
        self._suffix = read.dead_letter_suffix
        self._dispatch = dispatch
        self._stopping = stopping

    def __call__(self, message: IncomingMessage) -> Settlement:
        token = logs.current.set(None)  # each attempt's context is current until the message is settled
        try:
            return self._run(message)
        except Exception:  # a bug in Spine itself: keep the message for redelivery
            log.exception("consumer pipeline failed on %s %s", message.topic, _where(message.position))
            return NACK
        finally:
            logs.current.reset(token)

    def _run(self, message: IncomingMessage) -> Settlement:
        event: object = None
        if self._decode is not None:
            try:
                event = self._decode(message.value)
            except Exception as e:
                log.error(
                    "undecodable message on %s %s dead-lettered: %s: %s",
                    message.topic, _where(message.position), type(e).__name__, e,
                )
                return self._dead_letter(message, e, 0)
        attempts = max(1, self._retry.attempts)
        for attempt in range(1, attempts + 1):
            try:
                with self._probe.span(message) as span:
                    ctx = Context.for_message(message, partial(getattr, span, "trace"))
                    ctx.event = event
                    invoke(self._plan, ctx, self._dispatch)
                return ACK
            except Exception as e:
                if attempt == attempts:
                    log.error(
                        "handler %s failed %d time(s) on %s %s; dead-lettered",
                        self._plan.name, attempt, message.topic, _where(message.position), exc_info=e,
                    )
                    return self._dead_letter(message, e, attempt)
                delay = self._retry.delay(attempt)
                self._probe.retried()
                log.warning(
                    "handler %s failed (attempt %d of %d): %s: %s; retrying in %.2fs",
                    self._plan.name, attempt, attempts, type(e).__name__, e, delay,
                )
                if self._stopping.wait(delay):
                    return NACK
        raise AssertionError("unreachable")

    def _dead_letter(self, message: IncomingMessage, error: BaseException, attempts: int) -> DeadLetter:
        return DeadLetter(message.topic + self._suffix, dead_letter_reason(message, error, attempts))


def _where(position: Mapping[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in position.items())
