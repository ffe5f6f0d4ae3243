"""Encoders and decoders of the event path, per call: ``python -m bench.codecs``.

Spine's codecs (``spine_core.JSON``, msgspec behind the strict converter, and
``spine_core.MSGPACK``) beside what Spine used before them (its strict cattrs converter and
the standard library's ``json``), cattrs' ``preconf.orjson`` converter, orjson under Spine's
converter, and msgspec alone (encoding and decoding attrs classes itself, less strictly:
it takes 2**64 for an ``int``). Each over the seed's ``OrderCreated`` and a larger event (an
order with ten lines). Prints µs per call as one JSON line.
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from attrs import frozen

from apps.events import OrderCreated
from spine_core import JSON, MSGPACK
from spine_core.codecs.json import _dumps, converter
from spine_core.decoding import load_json, structurer

CALLS = 20_000


@frozen
class Line:
    sku: str
    quantity: int
    price_cents: int


@frozen
class OrderPlaced:
    order_id: int
    customer: str
    at: datetime
    lines: list[Line]


def _events() -> dict[str, Any]:
    at = datetime(2026, 11, 30, 5, 0, tzinfo=timezone.utc)
    lines = [Line(f"SKU-{i:05d}", i % 3 + 1, 1999 + i) for i in range(10)]
    return {"order.created": OrderCreated(12345, at), "order with 10 lines": OrderPlaced(12345, "ada", at, lines)}


def _per_call_us(fn: Callable[[], Any]) -> float:
    best = min(timeit.repeat(fn, number=CALLS, repeat=3))
    return best / CALLS * 1e6


def run() -> dict[str, dict[str, float]]:
    import msgspec
    import orjson
    from cattrs.preconf.orjson import make_converter as orjson_converter

    fast = orjson_converter()
    rows: dict[str, dict[str, float]] = {}
    for label, event in _events().items():
        cls = type(event)
        data = JSON.encode(event)
        spine_decode, structure = JSON.decoder(cls), fast.get_structure_hook(cls)
        before_fit = structurer(converter, cls)
        packed, msgpack_decode = MSGPACK.encode(event), MSGPACK.decoder(cls)
        assert msgpack_decode(packed) == before_fit(load_json(_dumps(converter.unstructure(event)))) == event
        # msgspec writes UTC as "Z", cattrs as "+00:00": compared decoded, each reads the others' output.
        assert spine_decode(fast.dumps(event)) == spine_decode(msgspec.json.encode(event)) == event
        msgspec_decoder = msgspec.json.Decoder(cls)
        assert spine_decode(data) == fast.loads(data, cls) == msgspec_decoder.decode(data) == event
        rows[label] = {
            "encode before (cattrs json + json)": _per_call_us(lambda: _dumps(converter.unstructure(event)).encode()),
            "encode spine JSON (msgspec)": _per_call_us(lambda: JSON.encode(event)),
            "encode spine MSGPACK (msgspec)": _per_call_us(lambda: MSGPACK.encode(event)),
            "encode cattrs preconf.orjson": _per_call_us(lambda: fast.dumps(event)),
            "encode orjson under spine's converter": _per_call_us(lambda: orjson.dumps(converter.unstructure(event))),
            "encode msgspec": _per_call_us(lambda: msgspec.json.encode(event)),
            "decode before (json + cattrs json)": _per_call_us(lambda: before_fit(load_json(data))),
            "decode spine JSON (msgspec, strict)": _per_call_us(lambda: spine_decode(data)),
            "decode spine MSGPACK (msgspec, strict)": _per_call_us(lambda: msgpack_decode(packed)),
            "decode cattrs preconf.orjson": _per_call_us(lambda: structure(orjson.loads(data), cls)),
            "decode msgspec (typed Decoder)": _per_call_us(lambda: msgspec_decoder.decode(data)),
        }
    return rows


if __name__ == "__main__":
    print(json.dumps(run()))
