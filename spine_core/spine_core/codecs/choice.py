"""Which codec encodes an event (per app, per topic, per event class: the narrowest wins), and which
decodes a message (its ``content-type`` header; none is JSON)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from ..decoding import DecodeError
from ..messages import Headers, IncomingMessage
from .base import Codec
from .json import JSON
from .msgpack import MSGPACK

T = TypeVar("T")


class UnknownContentType(DecodeError):
    """A message whose ``content-type`` no codec of the app decodes; retrying cannot help."""


class CodecChoice:
    """The codecs of one app: ``choose`` sets them, ``for_event`` picks the encoder of an event."""

    def __init__(self) -> None:
        self.default: Codec = JSON
        self.topics: dict[str, Codec] = {}
        self.events: dict[type, Codec] = {}

    def choose(self, codec: Codec, *, topic: str | None = None, event: type | None = None) -> None:
        """Encode with ``codec`` the events of class ``event``, else of ``topic`` (an event name,
        without the prefix), else every event of the app."""
        if event is not None and topic is not None:
            raise ValueError("choose a codec for a topic or for an event class, not both at once")
        if event is not None:
            self.events[event] = codec
        elif topic is not None:
            self.topics[topic] = codec
        else:
            self.default = codec

    def for_event(self, event: Any) -> Codec:
        """The codec of ``event``: its class's, else its topic's, else the app's."""
        if self.events:
            codec = self.events.get(type(event))
            if codec is not None:
                return codec
        if self.topics:
            codec = self.topics.get(event.name())
            if codec is not None:
                return codec
        return self.default

    def for_class(self, cls: type, topic: str) -> Codec:
        """The codec of the events of class ``cls`` on ``topic`` (its unprefixed name)."""
        return self.events.get(cls) or self.topics.get(topic) or self.default

    def known(self) -> dict[str, Codec]:
        """Every codec a consumer of this app decodes, by content type: the built-in ones and the chosen."""
        return {c.content_type: c for c in (*builtin(), self.default, *self.topics.values(), *self.events.values())}


def builtin() -> tuple[Codec, ...]:
    """The codecs every consumer decodes: JSON and msgpack."""
    return (JSON, MSGPACK)


def message_decoder(cls: type[T], codecs: Iterable[Codec]) -> Callable[[IncomingMessage], T]:
    """The decoder of messages into ``cls``: by the message's ``content-type`` (none: JSON); an
    unknown one raises :class:`UnknownContentType` naming it."""
    decoders: dict[str, Callable[[bytes], T]] = {c.content_type: c.decoder(cls) for c in codecs}
    plain = decoders.get(JSON.content_type) or JSON.decoder(cls)
    known = ", ".join(sorted(decoders))

    def decode(message: IncomingMessage) -> T:
        content_type = message.headers.get(Headers.CONTENT_TYPE)
        if content_type is None:
            return plain(message.value)
        decode_as = decoders.get(content_type) or decoders.get(bare(content_type))
        if decode_as is None:
            raise UnknownContentType(f"has content type {content_type!r}, which no codec decodes (known: {known})")
        return decode_as(message.value)

    return decode


def bare(content_type: str) -> str:
    """``application/json; charset=utf-8`` as ``application/json``."""
    return content_type.split(";", 1)[0].strip().lower()


def by_content_type(content_type: str | None, codecs: Mapping[str, Codec]) -> Codec | None:
    """The codec of a message's ``content-type`` among ``codecs`` (none: JSON), or None."""
    if content_type is None:
        return JSON
    return codecs.get(content_type) or codecs.get(bare(content_type))
