"""One attempt at a message: decode it, open its consume span (tracing) and context, run the handler."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...context import Context, MessageContext
from ...messages import ACK, SKIPPED, Deliver, IncomingMessage, Settlement
from ...ops.instrument import ConsumerProbe
from ...pipeline.invoke import invoke
from ...pipeline.plan import Plan


def attempting(plan: Plan[MessageContext], decode: Callable[[IncomingMessage], Any],
               dispatch: Callable[[Context], None], probe: ConsumerProbe) -> Deliver:
    """The innermost stage: ``Ack`` once the handler (inside its interceptors) succeeded and
    its events were published (``SKIPPED`` when an around hook, the inbox, found the message
    handled before and did not run it); raises what the decoder, the handler or publishing raised."""

    start = probe.start

    def attempt(message: IncomingMessage) -> Settlement:
        event = decode(message)
        span, ctx = start(message)  # PERF: what ``with probe.handling(message)`` does, without its calls
        try:
            ctx.event = event
            invoke(plan, ctx, dispatch)
        except BaseException as e:
            span.end(e)
            raise
        span.end(None)
        return SKIPPED if ctx.skipped else ACK

    return attempt
