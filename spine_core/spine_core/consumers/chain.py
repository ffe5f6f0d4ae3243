"""A subscription's ``deliver``: the consumer middleware chain, outermost first.

1. metrics (:class:`~spine_core.instrument.ConsumerProbe`): in flight, outcome, duration;
2. :mod:`.middleware.log_context`: the message's log context, never raise;
3. :mod:`.middleware.dead_letter`: failures for good become a dead letter with the reason;
4. the user's middlewares (``app.consumers().middleware(...)``), once per message;
5. :mod:`.middleware.retry`: attempts with backoff;
6. :mod:`.middleware.attempt`: decode, consume span, context, interceptors and handler,
   once per attempt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from ..context import Context
from ..instrument import NO_PROBE, ConsumerProbe
from ..messages import Deliver
from ..options import ReadOptions
from ..pipeline.plan import Plan
from .middleware import Middleware
from .middleware.attempt import attempting
from .middleware.dead_letter import dead_lettering
from .middleware.decode import event_decoder
from .middleware.log_context import guarded
from .middleware.retry import retrying
from .resolvers import event_type


def consumer_chain(
    plan: Plan,
    read: ReadOptions,
    dispatch: Callable[[Context], None],
    stopping: threading.Event,
    probe: ConsumerProbe = NO_PROBE,
    middlewares: Sequence[Middleware] = (),
) -> Deliver:
    """The ``deliver`` callable of one subscription. Thread-safe; never raises."""
    deliver = attempting(plan, event_decoder(event_type(plan.annotations)), dispatch, probe)
    deliver = retrying(deliver, read.retry, stopping, plan.name, probe.retried)
    for middleware in reversed(middlewares):
        deliver = middleware(deliver)
    deliver = dead_lettering(deliver, read.dead_letter_suffix, plan.name)
    return probe.wrap(guarded(deliver))
