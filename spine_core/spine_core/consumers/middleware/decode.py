"""Decoding a message's payload into the handler's event class, once per message."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...event import decoder


class Undecodable(Exception):
    """The payload does not decode into the handler's event class; retrying cannot help."""

    def __init__(self, cls: type, error: Exception) -> None:
        super().__init__(f"payload is not a valid {cls.__name__}: {type(error).__name__}: {error}")
        self.cause = error


def event_decoder(cls: type | None) -> Callable[[bytes], Any]:
    """The payload's decoder for a handler taking ``cls`` (none: the handler takes no event);
    it raises :class:`Undecodable`."""
    if cls is None:
        return _nothing
    decode: Callable[[bytes], Any] = decoder(cls)

    def decode_event(payload: bytes) -> Any:
        try:
            return decode(payload)
        except Exception as e:
            raise Undecodable(cls, e) from e

    return decode_event


def _nothing(payload: bytes) -> None:
    return None
