"""Settlement: what a delivered message comes to, the same for every broker.

``Ack`` settles it. ``DeadLetter`` settles it once a copy (key, value and
headers kept, the reason added) is confirmed on the dead-letter topic; if that
publish fails it is redelivered instead. ``Nack``, or a ``deliver`` that broke
its promise never to raise, leaves it for redelivery after
``ReadOptions.redelivery_delay``.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Sequence

from ..errors import PublishError
from ..messages import Ack, DeadLetter, Deliver, DeliverBatch, IncomingMessage, OutgoingMessage, Settlement

log = logging.getLogger("spine.consumer")


class Outcome(enum.Enum):
    """What the broker does with a delivered message."""

    DONE = "done"
    """Acknowledged, or dead-lettered and confirmed: commit it."""
    RETRY = "retry"
    """Not settled: deliver it again later, never commit past it."""


def dead_letter_copy(message: IncomingMessage, letter: DeadLetter) -> OutgoingMessage:
    """The copy of ``message`` that goes to the dead-letter topic: key, value and headers
    (event id included) kept, the reason added."""
    return OutgoingMessage(letter.topic, message.value, message.key, {**message.headers, **letter.reason})


def settle(deliver: Deliver, message: IncomingMessage, dead_letter: Callable[[OutgoingMessage], None]) -> Outcome:
    """Deliver ``message`` and carry out its settlement; never raises."""
    try:
        settlement = deliver(message)
    except Exception:
        log.exception("deliver raised on %s %s; it will be redelivered", message.topic, where(message))
        return Outcome.RETRY
    if type(settlement) is Ack:  # PERF: the usual case without a call
        return Outcome.DONE
    return carry_out(settlement, message, dead_letter)


def settle_batch(deliver: DeliverBatch, messages: Sequence[IncomingMessage],
                 dead_letter: Callable[[OutgoingMessage], None]) -> list[Outcome]:
    """Deliver ``messages`` as one batch and carry out each one's settlement; never raises."""
    try:
        settlements = deliver(messages)
        if len(settlements) != len(messages):
            raise ValueError(f"{len(settlements)} settlement(s) for {len(messages)} message(s)")
    except Exception:
        log.exception("deliver_batch raised on %d message(s) of %s; they will be redelivered",
                      len(messages), messages[0].topic)
        return [Outcome.RETRY] * len(messages)
    done = Outcome.DONE
    return [done if type(s) is Ack else carry_out(s, m, dead_letter) for s, m in zip(settlements, messages)]


def carry_out(settlement: Settlement, message: IncomingMessage,
              dead_letter: Callable[[OutgoingMessage], None]) -> Outcome:
    """What ``settlement`` of ``message`` comes to: a dead letter is published first."""
    if type(settlement) is Ack:
        return Outcome.DONE
    if isinstance(settlement, DeadLetter):
        try:
            dead_letter(dead_letter_copy(message, settlement))
        except PublishError as e:
            log.error("dead letter of %s %s to %s not confirmed (%s); it will be redelivered",
                      message.topic, where(message), settlement.topic, e)
            return Outcome.RETRY
        return Outcome.DONE
    return Outcome.RETRY


def where(message: IncomingMessage) -> str:
    """The message's position, for log lines: ``partition=0 offset=7``."""
    return " ".join(f"{k}={v}" for k, v in message.position.items())
