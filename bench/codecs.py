"""JSON encoders and decoders for the event path, per call: ``python -m bench.codecs``.

Spine today: cattrs' ``preconf.json`` converter and the standard library's ``json``
(``spine_core.event.encode`` / ``decoder``). Beside it: cattrs' ``preconf.orjson``
converter, orjson under Spine's converter, and msgspec, which encodes and decodes
attrs classes itself. Each over the seed's ``OrderCreated`` and a larger event (an order
with ten lines). Prints µs per call as one JSON line. Strictness differs (see the
serving guide's benchmark notes): msgspec rejects ``"12"`` for an ``int``, cattrs
converts it.
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from attrs import frozen

from apps.events import OrderCreated
from spine_core.event import converter, decoder, encode

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
        data = encode(event)
        spine_decode, structure = decoder(cls), fast.get_structure_hook(cls)
        # msgspec writes UTC as "Z", cattrs as "+00:00": compared decoded, each reads the others' output.
        assert spine_decode(fast.dumps(event)) == spine_decode(msgspec.json.encode(event)) == event
        msgspec_decoder = msgspec.json.Decoder(cls)
        assert spine_decode(data) == fast.loads(data, cls) == msgspec_decoder.decode(data) == event
        rows[label] = {
            "encode spine (cattrs json + json)": _per_call_us(lambda: encode(event)),
            "encode cattrs preconf.orjson": _per_call_us(lambda: fast.dumps(event)),
            "encode orjson under spine's converter": _per_call_us(lambda: orjson.dumps(converter.unstructure(event))),
            "encode msgspec": _per_call_us(lambda: msgspec.json.encode(event)),
            "decode spine (json + cattrs json)": _per_call_us(lambda: spine_decode(data)),
            "decode cattrs preconf.orjson": _per_call_us(lambda: structure(orjson.loads(data), cls)),
            "decode msgspec (typed Decoder)": _per_call_us(lambda: msgspec_decoder.decode(data)),
        }
    return rows


if __name__ == "__main__":
    print(json.dumps(run()))
