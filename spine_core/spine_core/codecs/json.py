"""The JSON codec, Spine's default: the wire format of the original Go Spine, and of HTTP bodies."""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from typing import Any, Final, TypeVar

import msgspec
from cattrs.preconf.json import make_converter

from ..decoding import load_json, strict_json, structurer
from .engine import fast_value, typed

T = TypeVar("T")

converter = strict_json(make_converter())
"""The one cattrs converter for events and bodies: datetimes as ISO-8601 strings, and strict:
a JSON value of the wrong type for its field is refused (``spine_core.decoding``)."""


def _compact_json() -> Callable[[Any], str]:
    """``json.dumps(value, separators=(",", ":"))``. PERF: the C encoder is made once here;
    ``JSONEncoder.encode`` makes one on every call (about 1 µs of the 1.6 µs it takes for an event)."""
    encoder = json.JSONEncoder(separators=(",", ":"))
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # no C accelerator (not CPython)
        return encoder.encode
    chunks = make(None, encoder.default, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True)
    return lambda value: "".join(chunks(value, 0))


_dumps = _compact_json()
_fast_encode = msgspec.json.encode
_DIGITS = bytes(48 if 48 <= b <= 57 else 32 for b in range(256))
"""Every digit as ``0``, every other byte as a space."""
_NINETEEN = b"0" * 19
"""19 digits in a row: maybe an integer beyond 64 bits, which msgspec takes for an ``int`` and Spine refuses.
PERF: found by ``translate`` and ``in`` in 0.24 µs (46 bytes) and 0.67 µs (593 bytes); the regular
expression ``[0-9]{19}`` takes 5.4 µs on the longer one."""


class JsonCodec:
    """``application/json``: compact UTF-8 JSON, datetimes as ISO-8601 strings (RFC 3339: UTC as ``Z``).
    msgspec encodes and decodes the classes it reads as Spine's strict converter does
    (:mod:`.engine`); the converter does the rest, and names the field of every refusal."""

    content_type: Final = "application/json"

    def encode(self, value: Any) -> bytes:
        """Compact JSON bytes of an attrs instance (or plain data)."""
        if fast_value(value):
            return _fast_encode(value)
        return _dumps(converter.unstructure(value)).encode()

    def loads(self, payload: bytes) -> Any:
        """The JSON value of ``payload``; a ``DecodeError`` if it is not JSON."""
        return load_json(payload)

    def decoder(self, cls: type[T]) -> Callable[[bytes | str], T]:
        """A strict decoder of JSON into ``cls``, its cattrs hook looked up once. Bytes must be UTF-8
        (RFC 8259). A failure is a ``DecodeError`` whose message names the field."""
        fit = structurer(converter, cls)
        quick = typed(lambda c: msgspec.json.Decoder(c).decode, cls)
        if quick is None:
            return lambda payload: fit(load_json(payload))
        refused = msgspec.MsgspecError

        def decode(payload: bytes | str) -> T:
            data = payload.encode() if isinstance(payload, str) else payload
            if _NINETEEN not in data.translate(_DIGITS):
                try:
                    return quick(data)
                except refused:  # the converter accepts it (18.0 is an integer) or says why not
                    pass
            return fit(load_json(data))

        return decode

    def __repr__(self) -> str:
        return "JSON"


JSON: Final = JsonCodec()
"""The JSON codec: the default of every app, and what a message with no ``content-type`` is."""
