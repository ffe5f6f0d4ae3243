"""Decoding a message's payload into the handler's event class, once per message, by the codec its
``content-type`` header names (none: JSON)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ...codecs.base import Codec
from ...codecs.choice import builtin, message_decoder
from ...messages import IncomingMessage


class Undecodable(Exception):
    """The payload does not decode into the handler's event class; retrying cannot help."""

    def __init__(self, cls: type, error: Exception) -> None:
        super().__init__(f"payload is not a valid {cls.__name__}: {type(error).__name__}: {error}")
        self.cause = error


def event_decoder(cls: type | None, codecs: Iterable[Codec] | None = None) -> Callable[[IncomingMessage], Any]:
    """The message's decoder for a handler taking ``cls`` (none: the handler takes no event), among
    ``codecs`` (default: the built-in ones); it raises :class:`Undecodable`, also for a content type
    none of them decodes."""
    if cls is None:
        return _nothing
    decode: Callable[[IncomingMessage], Any] = message_decoder(cls, builtin() if codecs is None else codecs)

    def decode_event(message: IncomingMessage) -> Any:
        try:
            return decode(message)
        except Exception as e:
            raise Undecodable(cls, e) from e

    return decode_event


def _nothing(message: IncomingMessage) -> None:
    return None
