"""The msgpack codec: events as MessagePack, as strict as JSON, datetimes as msgpack timestamps."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Final, TypeVar

import cattrs
import msgspec

from ..decoding import DecodeError, WrongType, json_type, strict_json, structurer
from .engine import bounds, fast_value, typed

T = TypeVar("T")

converter = strict_json(cattrs.Converter())
"""The strict converter of the JSON codec, over msgpack's values: a timestamp is a datetime."""


def _moment(kind: type[date]) -> Callable[[Any, Any], Any]:
    def structure(value: Any, _: Any) -> Any:
        if kind is datetime and type(value) is datetime:
            return value
        if type(value) is str:  # a naive datetime, or a date: ISO-8601 text
            return kind.fromisoformat(value)
        raise WrongType(f"expected a msgpack timestamp or an ISO-8601 {kind.__name__} string, got {json_type(value)}")

    return structure


for _kind in (datetime, date):
    converter.register_structure_hook(_kind, _moment(_kind))


def _loads(payload: bytes) -> Any:
    try:
        return msgspec.msgpack.decode(payload)
    except msgspec.MsgspecError as e:
        raise DecodeError(f"is not valid msgpack: {e}") from None
    except RecursionError:
        raise DecodeError("is nested too deeply") from None


class MsgpackCodec:
    """``application/msgpack``: MessagePack; timezone-aware datetimes as timestamps (extension -1,
    decoded in UTC), naive ones and dates as ISO-8601 text. msgspec encodes and decodes the classes
    it reads as Spine's strict converter does; the converter does the rest, and names the field of
    every refusal."""

    content_type: Final = "application/msgpack"

    def encode(self, value: Any) -> bytes:
        """MessagePack bytes of an attrs instance (or plain data)."""
        return msgspec.msgpack.encode(value if fast_value(value) else converter.unstructure(value))

    def loads(self, payload: bytes) -> Any:
        """The msgpack value of ``payload``; a ``DecodeError`` if it is not msgpack."""
        return _loads(payload)

    def decoder(self, cls: type[T]) -> Callable[[bytes], T]:
        """A strict decoder of msgpack into ``cls``. A failure is a ``DecodeError`` naming the field."""
        fit = structurer(converter, cls)
        quick = typed(lambda c: msgspec.msgpack.Decoder(c).decode, cls)
        within = typed(lambda c: msgspec.msgpack.Decoder(bounds(c)).decode, cls)
        if quick is None or within is None:
            return lambda payload: fit(_loads(payload))
        refused = msgspec.MsgspecError

        def decode(payload: bytes) -> T:
            """PERF: msgspec checks the bounds (a uint64 above int64, an infinite float) in a first
            pass; ``bench.codecs``: 0.39 µs in all for the seed's event, against 2.6 µs before."""
            try:
                within(payload)
                return quick(payload)
            except refused:  # the converter accepts it (18.0 is an integer) or says why not
                return fit(_loads(payload))

        return decode

    def __repr__(self) -> str:
        return "MSGPACK"


MSGPACK: Final = MsgpackCodec()
"""The msgpack codec: ``app.codec(MSGPACK)``."""
