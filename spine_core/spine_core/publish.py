"""``publish.event(ctx, *events)``: queue events to be published once the handler succeeds."""

from __future__ import annotations

from .context import Context
from .event import Event


def event(ctx: Context, *events: Event) -> None:
    """Queue ``events`` on the current request or message.

    They are handed to the broker after the handler and its interceptors
    succeeded, before the response is sent; if the handler fails, none is sent.
    """
    for e in events:
        if not isinstance(e, Event):
            raise TypeError(f"{e!r} is not an event: it needs name() and occurred_at()")
    ctx.events.extend(events)
