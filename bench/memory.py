"""Benchmark 3: publish → handler through the memory broker, in one process.

``python -m bench.memory N``: the stock service's handler shape on a memory
broker. Latency is from just before the event is handed to the dispatcher
(encoding included) to the handler's first line, one event at a time, the next
published once the previous one is settled. Events/s: N events published back
to back from one thread, first publish to last handler call. For scale, the same
process measures one thread waking another (``threading.Event``), the floor of
any handoff to a consumer thread on this machine.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from datetime import datetime, timezone

from apps.events import OrderCreated
from spine_core import BrokerOptions, Context, Options, ReadOptions, Spine, WriteOptions
from spine_core.options import BrokerConfig
from spine_core.runtime import Runtime
from spine_memory import MemoryBroker, MemoryPlugin

from .common import percentile

clock = time.perf_counter


class Handler:
    """The stock handler's shape: typed event, no logging; records when it was entered."""

    def __init__(self) -> None:
        self.entered: list[float] = []
        self.all_in = threading.Event()
        self.expected = 0

    def on_created(self, ctx: Context, event_name: str, event: OrderCreated) -> None:
        self.entered.append(clock())
        if len(self.entered) >= self.expected:
            self.all_in.set()


def handoff_floor(n: int) -> list[float]:
    """One thread waking another: ``Event.set`` to the woken thread running (the floor of any
    broker whose handlers run on their own thread), one wake at a time."""
    wake, done = threading.Event(), threading.Event()
    woke: list[float] = []

    def waiter() -> None:
        for _ in range(n):
            wake.wait()
            woke.append(clock())
            wake.clear()
            done.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    latencies = []
    for _ in range(n):
        done.clear()
        t0 = clock()
        wake.set()
        done.wait()
        latencies.append(woke[-1] - t0)
    thread.join()
    return latencies


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    broker = MemoryBroker()
    handler = Handler()
    app = Spine()

    def the_handler() -> Handler:
        return handler

    app.constructor(the_handler)
    app.consumers().register("order.created", Handler.on_created)
    options = Options(http=None, broker=BrokerOptions(
        name="memory", write=WriteOptions(), read=ReadOptions(group_id="stock-service"),
    ))
    runtime = Runtime(app, options, MemoryPlugin(BrokerConfig.from_options(options), broker))
    runtime.start()
    now = datetime.now(timezone.utc)

    def publish(i: int) -> None:
        ctx = Context("bench", "corr")
        ctx.events.append(OrderCreated(order_id=i, at=now))
        runtime.dispatch(ctx)

    def sequential(n: int) -> tuple[list[float], list[float]]:
        """Per event: publish → handler entered, and how long the publishing call took."""
        latencies, calls = [], []
        for i in range(n):
            handler.entered.clear()
            handler.expected = 1
            t0 = clock()
            publish(i)
            calls.append(clock() - t0)
            broker.drain()
            latencies.append(handler.entered[0] - t0)
        return latencies, calls

    sequential(500)  # warm-up
    measured, calls = sequential(count)
    latencies = sorted(x * 1e6 for x in measured)
    handler.entered.clear()
    handler.all_in.clear()
    handler.expected = count
    t0 = clock()
    for i in range(count):
        publish(i)
    if not handler.all_in.wait(60):
        raise SystemExit("memory broker did not deliver every event")
    burst = clock() - t0
    runtime.close(5)
    floor = sorted(x * 1e6 for x in handoff_floor(count))
    print(json.dumps({
        "mean_us": sum(latencies) / len(latencies), "p50_us": percentile(latencies, 50),
        "p99_us": percentile(latencies, 99), "publish_call_mean_us": sum(calls) / len(calls) * 1e6,
        "events_per_s": count / burst,
        "thread_wake_mean_us": sum(floor) / len(floor), "thread_wake_p50_us": percentile(floor, 50),
    }))


if __name__ == "__main__":
    main()
