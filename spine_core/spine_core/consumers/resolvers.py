"""Handler parameters of a consumer, resolved by their annotation."""

from __future__ import annotations

import typing
from typing import Any

import attrs

from ..context import Context, MessageContext
from ..errors import BootError
from ..messages import Headers, IncomingMessage
from ..pipeline.plan import Resolver


def _context(ctx: MessageContext) -> Context:
    return ctx


def _payload(ctx: MessageContext) -> bytes:
    return ctx.message.value


def _message(ctx: MessageContext) -> IncomingMessage:
    return ctx.message


def _event(ctx: MessageContext) -> Any:
    return ctx.event


def consumer_resolver_for(topic: str) -> Any:
    """A ResolverFor the handler of ``topic``: ``str`` is the event name, ``bytes`` the raw
    payload, an attrs class the decoded event."""

    def event_name(ctx: MessageContext) -> str:
        return ctx.message.headers.get(Headers.EVENT_NAME, topic)

    def resolver_for(name: str, annotation: Any) -> Resolver[MessageContext]:
        if annotation is Context:
            return _context
        if annotation is str:
            return event_name
        if annotation is bytes:
            return _payload
        if annotation is IncomingMessage:
            return _message
        if attrs.has(annotation) or batch_of(annotation) is not None:
            return _event
        raise BootError(f"cannot resolve parameter {name!r} of type {annotation!r} for a consumer")

    return resolver_for


def batch_of(annotation: Any) -> type | None:
    """``X`` for ``list[X]`` with ``X`` an attrs class (a batch handler's parameter), else None."""
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation) or (None,)
        if item is not None and attrs.has(item):
            return typing.cast(type, item)
    return None


def event_type(annotations: tuple[Any, ...]) -> tuple[type | None, bool]:
    """The attrs class a consumer handler wants decoded, if any, and whether it takes a batch
    (``list[EventClass]``)."""
    found = [(a, False) for a in annotations if a not in (Context, IncomingMessage) and attrs.has(a)]
    found += [(item, True) for a in annotations if (item := batch_of(a)) is not None]
    if len(found) > 1:
        raise BootError(f"a consumer handler takes one event or one list of events, got {found}")
    return found[0] if found else (None, False)
