"""A subscription's ``deliver``: the consumer middleware chain, outermost first.

1. metrics (:class:`~spine_core.ops.instrument.ConsumerProbe`): in flight, outcome, duration;
2. :mod:`.middleware.log_context`: the message's log context, never raise;
3. :mod:`.middleware.dead_letter`: failures for good become a dead letter with the reason;
4. the user's middlewares (``app.consumers().middleware(...)``), once per message;
5. :mod:`.middleware.retry`: attempts with backoff;
6. :mod:`.middleware.attempt`: decode, consume span, context, interceptors and handler,
   once per attempt.

A batch handler's batches take :mod:`.middleware.batch` instead, which falls back
to this chain, one message at a time, when a batch keeps failing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from ..codecs.base import Codec

from ..context import Context, MessageContext
from ..ops.instrument import ConsumerProbe, no_probe
from ..messages import Deliver, IncomingMessage, Subscription
from ..options import ReadOptions
from ..pipeline.plan import Plan
from .middleware import Middleware
from .middleware.attempt import attempting
from .middleware.batch import batching
from .middleware.dead_letter import dead_lettering
from .middleware.decode import event_decoder
from .middleware.log_context import guarded
from .middleware.retry import retrying
from .resolvers import event_type


def consumer_chain(
    plan: Plan[MessageContext],
    read: ReadOptions,
    dispatch: Callable[[Context], None],
    stopping: threading.Event,
    probe: ConsumerProbe | None = None,
    middlewares: Sequence[Middleware] = (),
    codecs: Sequence[Codec] | None = None,
) -> Deliver:
    """The ``deliver`` callable of one subscription, decoding with ``codecs`` (default: the built-in
    ones) by each message's content type. Thread-safe; never raises."""
    probe = probe or no_probe()
    event_class, batch = event_type(plan.annotations)
    decode = event_decoder(event_class, codecs)
    deliver = attempting(plan, _listed(decode) if batch else decode, dispatch, probe)
    deliver = retrying(deliver, read.retry, stopping, plan.name, probe.retried)
    for middleware in reversed(middlewares):
        deliver = middleware(deliver)
    deliver = dead_lettering(deliver, read.dead_letter_suffix, plan.name)
    return probe.wrap(guarded(deliver))


def subscription(
    topic: str,
    plan: Plan[MessageContext],
    read: ReadOptions,
    dispatch: Callable[[Context], None],
    stopping: threading.Event,
    probe: ConsumerProbe | None = None,
    middlewares: Sequence[Middleware] = (),
    max_batch: int = 100,
    codecs: Sequence[Codec] | None = None,
) -> Subscription:
    """What the broker is given for ``topic``: the chain, and for a batch handler (its event
    parameter is ``list[EventClass]``) the batch chain of :mod:`.middleware.batch` too."""
    probe = probe or no_probe()
    deliver = consumer_chain(plan, read, dispatch, stopping, probe, middlewares, codecs)
    event_class, batch = event_type(plan.annotations)
    if not batch:
        return Subscription(topic, deliver)
    deliver_batch = batching(plan, event_decoder(event_class, codecs), read, dispatch, stopping, probe, deliver)
    return Subscription(topic, deliver, deliver_batch, max_batch)


def _listed(decode: Callable[[IncomingMessage], Any]) -> Callable[[IncomingMessage], list[Any]]:
    """A batch handler's decoder for one message: a batch of one."""
    return lambda message: [decode(message)]
