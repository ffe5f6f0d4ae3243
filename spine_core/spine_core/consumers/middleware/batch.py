"""Batch handlers (``list[EventClass]``): a batch is decoded, retried as a whole, then one by one.

Each message is decoded on its own (an undecodable one is dead-lettered and left
out of the batch). The handler gets the events in delivery order and publishes
what it queued once it returned; a failing batch is retried with the delays of
``RetryOptions``. When its attempts are spent, each of its messages goes through
the single-message chain (its own retries, the user's middlewares, dead-lettering),
so that only the failing ones reach the dead-letter topic.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import Any

from ...context import Context, MessageContext, current
from ...messages import ACK, NACK, SKIPPED, DeadLetter, Deliver, DeliverBatch, IncomingMessage, Settlement
from ...ops.instrument import ConsumerProbe
from ...options import ReadOptions
from ...pipeline.invoke import invoke
from ...pipeline.plan import Plan
from ..settle import where
from .dead_letter import dead_letter_reason
from .decode import Undecodable

log = logging.getLogger("spine.consumer")


def batching(plan: Plan[MessageContext], decode: Callable[[IncomingMessage], Any], read: ReadOptions,
             dispatch: Callable[[Context], None], stopping: threading.Event, probe: ConsumerProbe,
             one_by_one: Deliver) -> DeliverBatch:
    """The ``deliver_batch`` of a batch handler's subscription; never raises."""
    attempts = max(1, read.retry.attempts)

    def attempt(messages: list[IncomingMessage], events: list[Any]) -> set[int]:
        """One try of the batch; the ids of the messages an around hook skipped (the inbox's redeliveries)."""
        with probe.handling_batch(messages) as ctx:
            ctx.messages = messages
            ctx.event = events
            invoke(plan, ctx, dispatch)
            return {id(m) for m in ctx.skipped}

    def deliver_batch(messages: Sequence[IncomingMessage]) -> list[Settlement]:
        started = perf_counter()
        token = current.set(None)
        try:
            settlements: list[Settlement | None] = [None] * len(messages)
            good: list[int] = []
            events: list[Any] = []
            for i, message in enumerate(messages):
                try:
                    events.append(decode(message))
                    good.append(i)
                except Undecodable as e:
                    log.error("undecodable message on %s %s dead-lettered: %s", message.topic, where(message), e)
                    settlements[i] = DeadLetter(message.topic + read.dead_letter_suffix,
                                                dead_letter_reason(message, e.cause, 0))
            skipped = run(attempt, [messages[i] for i in good], events) if good else set()
            if skipped is None:
                if stopping.is_set():
                    return [s or NACK for s in settlements]
                probe.observe([s for s in settlements if s is not None], perf_counter() - started)
                for i in good:  # counted by the single-message chain
                    settlements[i] = one_by_one(messages[i])
                return [s or NACK for s in settlements]
            if not skipped and len(good) == len(messages):
                done: list[Settlement] = [ACK] * len(messages)
            else:
                for i in good:
                    settlements[i] = SKIPPED if id(messages[i]) in skipped else ACK
                done = [s or NACK for s in settlements]
            probe.observe(done, perf_counter() - started)
            return done
        except Exception:
            log.exception("batch of %d message(s) on %s failed in Spine; redelivered", len(messages),
                          messages[0].topic)
            return [NACK] * len(messages)
        finally:
            current.reset(token)

    def run(attempt: Callable[[list[IncomingMessage], list[Any]], set[int]],
            messages: list[IncomingMessage], events: list[Any]) -> set[int] | None:
        """What the attempt that succeeded skipped; None when every attempt failed or the consumer stops.
        The messages count as in flight meanwhile (the one-by-one fallback counts its own)."""
        probe.in_flight(len(messages))
        try:
            for n in range(1, attempts + 1):
                try:
                    return attempt(messages, events)
                except Exception as e:
                    if n == attempts:
                        log.warning("batch handler %s failed %d time(s) on %d message(s): %s: %s; retrying them "
                                    "one by one", plan.name, n, len(messages), type(e).__name__, e)
                        return None
                    delay = read.retry.delay(n)
                    probe.retried()
                    log.warning("batch handler %s failed (attempt %d of %d): %s: %s; retrying in %.2fs",
                                plan.name, n, attempts, type(e).__name__, e, delay)
                    if stopping.wait(delay):
                        return None
            return None
        finally:
            probe.in_flight(-len(messages))

    return deliver_batch
