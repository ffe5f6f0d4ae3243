"""Events: the protocol every domain event follows, its JSON encoding and its wire message."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

import attrs

from .codecs.base import Codec
from .codecs.json import JSON, converter
from .errors import BootError
from .ids import TraceParent, id128
from .messages import Headers, OutgoingMessage

T = TypeVar("T")

__all__ = ["Event", "converter", "decode", "decoder", "encode", "event_classes", "event_key", "to_message",
           "topic_of"]


@runtime_checkable
class Event(Protocol):
    """A domain event: ``name()`` is its topic, ``occurred_at()`` when it happened.

    An event may also define ``key() -> str`` to keep events of one aggregate in order.
    """

    def name(self) -> str: ...

    def occurred_at(self) -> datetime: ...


def event_key(event: Event) -> str | None:
    """The event's partition key, if it defines ``key()``."""
    key = getattr(event, "key", None)
    return None if key is None else str(key())


def encode(value: Any) -> bytes:
    """Encode an attrs instance (or plain data) as compact JSON bytes."""
    return JSON.encode(value)


def decode(payload: bytes | str, cls: type[T]) -> T:
    """Decode JSON into ``cls``; raises :class:`~spine_core.decoding.DecodeError` on bad input."""
    return decoder(cls)(payload)


def decoder(cls: type[T]) -> Callable[[bytes | str], T]:
    """``decode`` for one class, made once (the consumer's hot path): the JSON codec's decoder.
    Bytes must be UTF-8, as JSON on the wire is (RFC 8259). A failure is a ``DecodeError`` whose
    message names the field: the reason a consumer dead-letters the message with."""
    return JSON.decoder(cls)


def event_classes(classes: Sequence[Any], where: str) -> tuple[type, ...]:
    """``classes`` declared as published by ``where`` (a route or consumer), checked to be
    attrs event classes whose topic is known without an instance; else a BootError."""
    for cls in classes:
        if not (isinstance(cls, type) and attrs.has(cls)):
            raise BootError(f"{where}: publishes={cls!r} is not an attrs class")
        if not (callable(getattr(cls, "name", None)) and callable(getattr(cls, "occurred_at", None))):
            raise BootError(f"{where}: publishes {cls.__qualname__}, which is not an event (needs name() and "
                            "occurred_at())")
        topic_of(cls, where)
    return tuple(classes)


def topic_of(cls: type, where: str = "") -> str:
    """The topic of event class ``cls``: its ``name()``, which must not depend on the instance."""
    method = inspect.getattr_static(cls, "name")
    try:
        static = isinstance(method, (staticmethod, classmethod))
        name = cls.name() if static else method(None)  # type: ignore[attr-defined]
    except Exception as e:
        raise BootError(
            f"{where or cls.__qualname__}: {cls.__qualname__}.name() must return the topic without using the "
            f"instance to be declared ({type(e).__name__}: {e})"
        ) from None
    if not isinstance(name, str) or not name:
        raise BootError(f"{where or cls.__qualname__}: {cls.__qualname__}.name() returned {name!r}, not a topic")
    return name


def to_message(
    event: Event, topic_prefix: str, correlation_id: str, trace: TraceParent | None = None, codec: Codec = JSON
) -> OutgoingMessage:
    """The wire form of ``event``: topic = prefix + name, value encoded by ``codec``, key and headers
    (``content-type`` naming the codec, ``traceparent`` naming ``trace`` as the parent span)."""
    name = event.name()
    key = event_key(event)
    headers = {
        Headers.EVENT_NAME: name,
        Headers.EVENT_ID: id128(),
        Headers.OCCURRED_AT: event.occurred_at().isoformat(),
        Headers.CONTENT_TYPE: codec.content_type,
        Headers.CORRELATION_ID: correlation_id,
    }
    if key is not None:
        headers[Headers.KEY] = key
    if trace is not None:
        headers[Headers.TRACEPARENT] = trace.header()
    return OutgoingMessage(topic_prefix + name, codec.encode(event), key, headers)
