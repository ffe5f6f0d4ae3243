"""Events: the protocol every domain event follows and its JSON encoding (cattrs)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar, runtime_checkable

from cattrs.preconf.json import make_converter

T = TypeVar("T")

converter = make_converter()
"""The one cattrs converter for events and bodies: datetimes as ISO-8601 strings."""
_json = json.JSONEncoder(separators=(",", ":"))  # json.dumps(..., separators=) builds one per call


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
    return _json.encode(converter.unstructure(value)).encode()


def decode(payload: bytes | str, cls: type[T]) -> T:
    """Decode JSON into ``cls``; raises ``ValueError`` or a cattrs error on bad input."""
    return decoder(cls)(payload)


def decoder(cls: type[T]) -> Callable[[bytes | str], T]:
    """``decode`` for one class, with its cattrs hook looked up once (the consumer's hot path).
    Bytes must be UTF-8, as JSON on the wire is (RFC 8259)."""
    structure = converter.get_structure_hook(cls)
    loads = json.loads

    def decode_one(payload: bytes | str) -> T:
        value: T = structure(loads(payload.decode() if isinstance(payload, bytes) else payload), cls)
        return value

    return decode_one
