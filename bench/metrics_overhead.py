"""Cost of the Prometheus metrics: publish path and consumer throughput with metrics on vs off.

``python -m bench.metrics_overhead [REQUESTS] [MESSAGES] [REPS]``, on the memory broker,
in one process, so that the framework's own CPU time is all that is measured
(no sockets: the worst case for the relative cost of metrics):

- publish path: ``POST /orders/N`` of the seed's order service, called as WSGI
  back to back; each request publishes ``order.created`` and waits for the
  (memory) broker's confirmation. Requests/s.
- consumer: MESSAGES ``order.created`` events pre-loaded, then the stock
  service's handler shape (typed event, no logging) consumes them all. Messages/s.

Rates are per second of CPU time of the thread doing the work (``time.thread_time``:
the caller for requests, the broker's delivery thread for messages), and the best
of REPS interleaved on/off runs is kept (as ``timeit`` does): on a machine shared
with other work, wall-clock rates and medians vary by more than the cost
measured. Prints a table, then one JSON line.
"""

from __future__ import annotations

import gc
import io
import json
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from attrs import evolve

from apps import order_app
from apps.events import OrderCreated
from spine_core import BrokerOptions, Context, OpsOptions, Options, ReadOptions, Spine
from spine_core.options import BrokerConfig
from spine_core.event import to_message
from spine_core.runtime import Runtime
from spine_memory import MemoryBroker, MemoryPlugin

clock = time.thread_time


def _runtime(app: Spine, options: Options, metrics: bool, broker: MemoryBroker) -> Runtime:
    options = evolve(options, ops=OpsOptions(metrics=metrics), broker=evolve(options.broker, name="memory"))
    return Runtime(app, options, MemoryPlugin(BrokerConfig.from_options(options), broker))


def publish_rps(metrics: bool, requests: int) -> float:
    """Requests/s of ``POST /orders/N`` through the order service's WSGI app."""
    runtime = _runtime(order_app.create_app(), order_app.options(), metrics, MemoryBroker())
    runtime.start()
    app: Any = runtime.wsgi

    def call(n: int) -> None:
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": f"/orders/{n}", "QUERY_STRING": "", "SERVER_NAME": "bench",
            "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "CONTENT_LENGTH": "0",
        }
        body = b"".join(app(environ, lambda status, headers, *exc: None))
        assert body == b"OK", body

    for n in range(200):  # warm up
        call(n)
    start = clock()
    for n in range(requests):
        call(n)
    elapsed = clock() - start
    runtime.close(1.0)
    return requests / elapsed


class Stock:
    """The stock handler's shape, without logging; ``done`` is set at the ``expected``-th event."""

    expected = 0

    def __init__(self) -> None:
        self.count = 0
        self.first = 0.0
        self.last = 0.0
        self.done = threading.Event()

    def on_created(self, ctx: Context, event_name: str, event: OrderCreated) -> None:
        self.count += 1
        if self.count == 1:
            self.first = clock()
        elif self.count == self.expected:
            self.last = clock()
            self.done.set()


def consumer_mps(metrics: bool, messages: int) -> float:
    """Messages/s of the stock handler over ``messages`` pre-loaded events."""
    broker = MemoryBroker()
    now = datetime.now(timezone.utc)
    broker.publish([to_message(OrderCreated(i, now), "", "c") for i in range(messages)], timeout=1.0)
    app = Spine()
    app.constructor(Stock)
    app.consumers().register("order.created", Stock.on_created)
    options = Options(broker=BrokerOptions(read=ReadOptions(group_id="stock")), http=None)
    runtime = _runtime(app, options, metrics, broker)
    stock = app.container.get(Stock)
    stock.expected = messages
    runtime.start()
    assert stock.done.wait(600)
    elapsed = stock.last - stock.first  # CPU time of the delivering thread, first to last message
    runtime.close(1.0)
    return (messages - 1) / elapsed


def compare(measure: Callable[[bool, int], float], size: int, reps: int) -> dict[str, float]:
    """Best rate with metrics off and on, and how much slower on is, in percent."""
    rates: dict[bool, list[float]] = {False: [], True: []}
    for rep in range(reps):
        for metrics in (False, True) if rep % 2 else (True, False):
            gc.collect()  # the previous run's garbage is not collected on this run's time
            gc.disable()
            try:
                rates[metrics].append(measure(metrics, size))
            finally:
                gc.enable()
    off, on = rates[False], rates[True]
    best_off, best_on = max(off), max(on)
    return {"off": best_off, "on": best_on, "overhead_pct": (best_off - best_on) / best_off * 100}


def main() -> None:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    messages = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    result = {
        "publish_rps": compare(publish_rps, requests, reps),
        "consumer_mps": compare(consumer_mps, messages, reps),
    }
    for name, unit, r in (("publish path", "req/s", result["publish_rps"]),
                          ("consumer", "msg/s", result["consumer_mps"])):
        print(f"{name:13} metrics off {r['off']:>9,.0f} {unit} (CPU)   on {r['on']:>9,.0f} {unit}"
              f"   overhead {r['overhead_pct']:5.1f} %  (target < 10 %)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
