"""``publish.event(ctx, *events)``: queue events to be published once the handler succeeds."""

from __future__ import annotations

from .context import Context
from .event import Event


_EVENT_CLASSES: set[type] = set()
"""Classes whose instances passed ``isinstance(e, Event)``: that runtime Protocol check
costs ~5 µs on Python 3.11, a set lookup ~0.05 µs."""


def _is_event(value: object) -> bool:
    if type(value) in _EVENT_CLASSES:
        return True
    if isinstance(value, Event):
        _EVENT_CLASSES.add(type(value))
        return True
    return False


def event(ctx: Context, *events: Event) -> None:
    """Queue ``events`` on the current request or message.

    They are handed to the broker after the handler and its interceptors
    succeeded, before the response is sent; if the handler fails, none is sent.
    """
    for e in events:
        if not _is_event(e):
            raise TypeError(_not_an_event(e))
    ctx.events.extend(events)


def _not_an_event(value: object) -> str:
    missing = [f"{m}()" for m in ("name", "occurred_at") if not callable(getattr(value, m, None))]
    return (
        f"publish.event got a {type(value).__qualname__}, which is not an event (it lacks {' and '.join(missing)}):"
        " an event is an object with name() -> str, its topic, and occurred_at() -> datetime"
        " (see spine_core.Event), e.g. an attrs class like apps.events.OrderCreated"
    )
