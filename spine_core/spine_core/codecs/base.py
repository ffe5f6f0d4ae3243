"""What a codec is: a content type, an encoder, and a strict decoder for a class."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Codec(Protocol):
    """One wire format of events. ``decoder(cls)`` is looked up once per class (the consumer's hot
    path); the callable it returns raises :class:`~spine_core.decoding.DecodeError` naming the field."""

    @property
    def content_type(self) -> str:
        """The ``content-type`` header of the messages it encodes (``application/json``)."""
        ...

    def encode(self, value: Any) -> bytes:
        """The bytes of an attrs instance (or plain data)."""
        ...

    def loads(self, payload: bytes) -> Any:
        """The payload as plain data, whatever class it was (``spine dlq show`` prints it)."""
        ...

    def decoder(self, cls: type[T]) -> Callable[[bytes], T]:
        """A strict decoder of bytes into ``cls``: a value of the wrong type is refused, never converted."""
        ...
