"""Where the microseconds go: CPU time of each stage of the publish and consume paths.

``python -m bench.breakdown``: in one process, no sockets and no other thread, each
stage called in a loop; the figure is the best of 5 loops (the least disturbed by
other work on the machine), in microseconds per call. Prints one JSON line.
"""

from __future__ import annotations

import json
import timeit
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import falcon
import falcon.testing
from attrs import evolve

from apps import order_app
from apps.events import OrderCreated
from spine_core import BrokerOptions, Context, Options, ReadOptions, Spine, publish
from spine_core.event import decode, encode
from spine_core.messages import IncomingMessage
from spine_core.pipeline.dispatch import to_message
from spine_core.runtime import Runtime

from .servers import Bare
from .stock import Counting


def per_call_us(fn: Callable[[], Any], number: int = 2000) -> float:
    fn()
    return min(timeit.repeat(fn, number=number, repeat=5)) / number * 1e6


def wsgi_call(app: Any, path: str) -> Callable[[], None]:
    environ = falcon.testing.create_environ(path, method="POST")

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        pass

    def call() -> None:
        body = app(dict(environ), start_response)
        list(body)
        getattr(body, "close", lambda: None)()

    return call


def stock_deliver() -> Callable[[IncomingMessage], Any]:
    """The deliver callable Spine hands a broker for the stock handler shape."""
    app = Spine()
    handler = Counting(10**12)

    def the_handler() -> Counting:
        return handler

    app.constructor(the_handler)
    app.consumers().register("order.created", Counting.on_created)
    options = Options(http=None, broker=BrokerOptions(name="memory", read=ReadOptions(group_id="stock")))
    return Runtime(app, options).subscriptions[0].deliver


def main() -> None:
    event = OrderCreated(order_id=12345, at=datetime.now(timezone.utc))
    wire = to_message(event, "", "corr")
    incoming = IncomingMessage(wire.topic, wire.value, wire.key, dict(wire.headers), {"partition": "0", "offset": "1"})
    bare = falcon.App()
    bare.add_route("/orders/{order_id:int}", Bare())
    options = order_app.options()
    orders = Runtime(order_app.create_app(), evolve(options, broker=evolve(options.broker, name="memory")))
    deliver = stock_deliver()
    ctx = Context("bench", "corr")
    header_list = [(k, v.encode()) for k, v in wire.headers.items()]

    def queue_event() -> None:
        publish.event(ctx, event)
        ctx.events.clear()

    stages = {
        "http: bare falcon app, POST /orders/N": wsgi_call(bare, "/orders/12345"),
        "http: spine order app (memory broker), POST /orders/N": wsgi_call(orders.wsgi, "/orders/12345"),
        "publish: publish.event(ctx, event)": queue_event,
        "publish: to_message(event) (headers, ids, JSON)": lambda: to_message(event, "", "corr"),
        "publish: encode(event) (cattrs + json.dumps)": lambda: encode(event),
        "consume: json.loads(value) (what the raw loop does)": lambda: json.loads(wire.value),
        "consume: decode(value, OrderCreated) (cattrs)": lambda: decode(wire.value, OrderCreated),
        "consume: IncomingMessage from a librdkafka-like message": lambda: IncomingMessage(
            "order.created", wire.value, b"12345".decode(), {k: v.decode() for k, v in header_list},
            {"partition": str(0), "offset": str(1)},
        ),
        "consume: deliver(message) -> Ack (full pipeline, stock handler shape)": lambda: deliver(incoming),
    }
    print(json.dumps({name: per_call_us(fn) for name, fn in stages.items()}))


if __name__ == "__main__":
    main()
