"""Where the microseconds go: CPU time of each stage of the publish and consume paths.

``python -m bench.breakdown``: in one process, no sockets and no other thread, each
stage called in a loop; the figure is the best of 5 loops (the least disturbed by
other work on the machine), in microseconds per call. Prints one JSON line.

``python -m bench.breakdown http``: the request path alone, as CPU time of the whole
process per call of the WSGI app (``time.process_time``: on Kafka it counts librdkafka's
threads and the delivery-report thread too), for the bare Falcon route and Spine's order
route on the memory broker and on Kafka (a Tansu broker started for it); on Kafka each
call waits for the broker's confirmation, as a request does.

``python -m bench.breakdown served``: the same WSGI apps (bare route, Spine on memory) in
waitress under ``POST /orders/N`` at concurrency 16: the CPU time of the serving thread per
call of the app (``time.thread_time``). Served, the same code costs several times its
tight-loop figure (caches, 16 threads taking turns), so this is the figure a request pays.
"""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import time
import timeit
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import falcon
import falcon.testing
import waitress
from attrs import evolve

from apps import order_app
from apps.events import OrderCreated
from spine_core import BrokerOptions, Context, Options, ReadOptions, Spine, path, publish
from spine_core.event import decode, encode
from spine_core.messages import IncomingMessage
from spine_core.options import HTTPOptions
from spine_core.event import to_message
from spine_core.runtime import Runtime

from .common import free_port, spawn, stop, wait_port
from .kafka import create_topic
from .load import post_load
from .servers import Bare, HandRolled
from .stock import Counting


def per_call_us(fn: Callable[[], Any], number: int = 2000, timer: Callable[[], float] = time.perf_counter) -> float:
    fn()
    return min(timeit.repeat(fn, number=number, repeat=5, timer=timer)) / number * 1e6


def cpu_per_call_us(fn: Callable[[], Any], number: int = 2000) -> float:
    """CPU time of the whole process (every thread) per call, best of 5 loops."""
    return per_call_us(fn, number, timer=time.process_time)


def wsgi_call(app: Any, path: str) -> Callable[[], None]:
    environ = falcon.testing.create_environ(path, method="POST")

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        pass

    def call() -> None:
        body = app(dict(environ), start_response)
        for _ in body:
            pass
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


def order_runtime(broker: str, settings: dict[str, Any] | None = None) -> Runtime:
    """The seed's order service on ``broker``, started."""
    options = order_app.options()
    broker_options = evolve(options.broker, name=broker, settings={broker: settings or {}})
    runtime = Runtime(order_app.create_app(), evolve(options, broker=broker_options))
    runtime.start()
    return runtime


def _no_event(order_id: path.Int) -> str:
    return "OK"


def http_rows(kafka: bool = True) -> dict[str, float]:
    """CPU µs per WSGI call: bare Falcon route, Spine on memory, Spine on Kafka (confirmed)."""
    bare = falcon.App()
    bare.add_route("/orders/{order_id:int}", Bare())
    rows = {"http cpu: bare falcon route, POST /orders/N": cpu_per_call_us(wsgi_call(bare, "/orders/12345"))}
    quiet = Spine()
    quiet.route("POST", "/orders/:order_id", _no_event)
    no_event = Runtime(quiet, Options(broker=BrokerOptions(name="memory")))
    rows["http cpu: spine route publishing nothing, POST /orders/N"] = cpu_per_call_us(
        wsgi_call(no_event.wsgi, "/orders/12345")
    )
    memory = order_runtime("memory")
    try:
        rows["http cpu: spine order route, memory broker"] = cpu_per_call_us(wsgi_call(memory.wsgi, "/orders/12345"))
    finally:
        memory.close(5.0)
    if kafka:
        from spine_kafka.tansu import Tansu

        with Tansu.start() as tansu:
            create_topic(tansu.bootstrap_servers, "order.created")
            handrolled = falcon.App()
            handrolled.add_route("/orders/{order_id:int}", HandRolled(tansu.bootstrap_servers, "order.created"))
            rows["http cpu: hand-rolled confluent route, kafka (confirmed)"] = cpu_per_call_us(
                wsgi_call(handrolled, "/orders/12345"), number=500
            )
            runtime = order_runtime("kafka", {"bootstrap.servers": tansu.bootstrap_servers})
            try:
                call = wsgi_call(runtime.wsgi, "/orders/12345")
                rows["http cpu: spine order route, kafka (confirmed)"] = cpu_per_call_us(call, number=500)
                started = time.perf_counter()
                for _ in range(500):
                    call()
                rows["http wall: spine order route, kafka (confirmed), sequential"] = (
                    (time.perf_counter() - started) / 500 * 1e6
                )
            finally:
                runtime.close(5.0)
    return rows


def serve_timed(kind: str, port: int) -> None:
    """Serve the bare app or Spine's (memory) in waitress; on SIGTERM print the app's CPU µs per call."""
    bare = falcon.App()
    bare.add_route("/orders/{order_id:int}", Bare())
    app = bare if kind == "bare" else order_runtime("memory").wsgi
    assert app is not None
    spent, calls = [0.0], [0]

    def timed(environ: dict[str, Any], start_response: Any) -> Any:
        started = time.thread_time()
        body = app(environ, start_response)
        spent[0] += time.thread_time() - started
        calls[0] += 1
        return body

    def report(*_: object) -> None:
        print(json.dumps({"cpu_us_per_call": spent[0] / max(1, calls[0]) * 1e6, "calls": calls[0]}), flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, report)
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)
    waitress.serve(timed, host="127.0.0.1", port=port, threads=HTTPOptions().threads, _quiet=True)


def served_rows(seconds: float = 5.0) -> dict[str, float]:
    """CPU µs per app call inside waitress at concurrency 16, bare route and Spine on memory."""
    rows = {}
    for kind, name in (("bare", "bare falcon route"), ("spine", "spine order route, memory broker")):
        port = free_port()
        proc = spawn(["-m", "bench.breakdown", "serve", kind, str(port)], stdout=subprocess.PIPE, text=True)
        try:
            wait_port(port, 60, proc)
            post_load(port, 16, 1)
            post_load(port, 16, seconds)
        finally:
            stop(proc)
        out = proc.stdout.read() if proc.stdout is not None else ""
        rows[f"served cpu: {name}, waitress c=16"] = json.loads(out.strip().splitlines()[-1])["cpu_us_per_call"]
    return rows


def main() -> None:
    if sys.argv[1:] == ["http"]:
        print(json.dumps(http_rows()))
        return
    if sys.argv[1:] == ["served"]:
        print(json.dumps(served_rows()))
        return
    if sys.argv[1:2] == ["serve"]:
        serve_timed(sys.argv[2], int(sys.argv[3]))
        return
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
