"""Handler parameters of a consumer, resolved by their annotation."""

from __future__ import annotations

from typing import Any

import attrs

from ..context import Context
from ..errors import BootError
from ..messages import Headers, IncomingMessage
from ..pipeline.plan import Resolver


def _context(ctx: Context) -> Context:
    return ctx


def _payload(ctx: Context) -> bytes:
    return ctx.message.value  # type: ignore[union-attr]


def _message(ctx: Context) -> IncomingMessage:
    return ctx.message  # type: ignore[return-value]


def _event(ctx: Context) -> Any:
    return ctx.event


def consumer_resolver_for(topic: str) -> Any:
    """A ResolverFor the handler of ``topic``: ``str`` is the event name, ``bytes`` the raw
    payload, an attrs class the decoded event."""

    def event_name(ctx: Context) -> str:
        return ctx.message.headers.get(Headers.EVENT_NAME, topic)  # type: ignore[union-attr]

    def resolver_for(name: str, annotation: Any) -> Resolver:
        if annotation is Context:
            return _context
        if annotation is str:
            return event_name
        if annotation is bytes:
            return _payload
        if annotation is IncomingMessage:
            return _message
        if attrs.has(annotation):
            return _event
        raise BootError(f"cannot resolve parameter {name!r} of type {annotation!r} for a consumer")

    return resolver_for


def event_type(annotations: tuple[Any, ...]) -> type | None:
    """The attrs class a consumer handler wants decoded, if any."""
    found = [a for a in annotations if a not in (Context, IncomingMessage) and attrs.has(a)]
    if len(found) > 1:
        raise BootError(f"a consumer handler takes one event, got {found}")
    return found[0] if found else None
