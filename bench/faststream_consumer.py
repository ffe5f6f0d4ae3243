"""FastStream's Kafka subscribers over the consumer benchmark's preloaded topic, and its in-memory roundtrip.

``python -m bench.faststream_consumer one BOOTSTRAP TOPIC COUNT GROUP``: a subscriber
(``@broker.subscriber(topic, group_id=GROUP)``, aiokafka, from the beginning) whose handler
takes one event, decoded by FastStream into a pydantic model of ``order.created``.

``python -m bench.faststream_consumer batch BOOTSTRAP TOPIC COUNT GROUP``: the same with
``batch=True, max_records=500``: the handler takes a list of events.

Both print messages/s from the first message to the last and the peak RSS as one JSON line.
FastStream's logger is off (``logger=None``): by default it logs every message twice, and
Spine's benchmark handler logs nothing either.

``python -m bench.faststream_consumer notify BOOTSTRAP UDP_PORT GROUP TOPIC``: a FastStream
stock service for the end-to-end benchmark: its handler, first thing, sends
``order_id perf_counter()`` to 127.0.0.1:UDP_PORT; ``fetch_max_wait_ms`` is Spine's kafka
plugin default (FastStream's own, 500 ms, would dominate the latency); runs until SIGTERM.

``python -m bench.faststream_consumer memory EVENTS``: FastStream's ``TestKafkaBroker``
(in memory, no Kafka): publish -> handler entered, one event at a time; mean/p50/p99 µs.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time
from datetime import datetime, timezone

from faststream.kafka import KafkaBroker
from pydantic import BaseModel

from .common import peak_rss_mb, percentile

clock = time.perf_counter


class OrderCreated(BaseModel):
    order_id: int
    at: datetime


async def consume(bootstrap: str, topic: str, count: int, group: str, batch: bool) -> None:
    broker = KafkaBroker(bootstrap, logger=None)
    seen, first, last = 0, 0.0, 0.0
    done = asyncio.Event()

    def note(n: int) -> None:
        nonlocal seen, first, last
        now = clock()
        if not seen:
            first = now
        seen += n
        if seen >= count:
            last = now
            done.set()

    if batch:
        @broker.subscriber(topic, group_id=group, auto_offset_reset="earliest", batch=True, max_records=500)
        async def on_batch(events: list[OrderCreated]) -> None:
            note(len(events))
    else:
        @broker.subscriber(topic, group_id=group, auto_offset_reset="earliest")
        async def on_event(event: OrderCreated) -> None:
            note(1)

    async with broker:
        await broker.start()
        await asyncio.wait_for(done.wait(), 600)
    print(json.dumps({"messages_per_s": (count - 1) / (last - first), "peak_rss_mb": peak_rss_mb(os.getpid())}))


async def notify(bootstrap: str, port: int, group: str, topic: str) -> None:
    import signal
    import socket

    from spine_kafka.config import CONSUMER_DEFAULTS

    broker = KafkaBroker(bootstrap, logger=None)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    address = ("127.0.0.1", port)

    @broker.subscriber(topic, group_id=group, auto_offset_reset="earliest",
                       fetch_max_wait_ms=int(CONSUMER_DEFAULTS["fetch.wait.max.ms"]))
    async def on_event(event: OrderCreated) -> None:
        sock.sendto(f"{event.order_id} {clock()!r}".encode(), address)

    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    async with broker:
        await broker.start()
        print("started", flush=True)
        await stop.wait()


async def roundtrip(events: int) -> None:
    from faststream.kafka import TestKafkaBroker

    broker = KafkaBroker(logger=None)
    entered: asyncio.Queue[float] = asyncio.Queue()

    @broker.subscriber("order.created")
    async def on_event(event: OrderCreated) -> None:
        await entered.put(clock())

    samples = []
    async with TestKafkaBroker(broker) as test:
        at = datetime.now(timezone.utc)
        for i in range(events):
            t0 = clock()
            await test.publish({"order_id": i, "at": at.isoformat()}, "order.created", key=str(i).encode())
            samples.append((await entered.get() - t0) * 1e6)
    ordered = sorted(samples)
    print(json.dumps({"mean_us": statistics.fmean(samples), "p50_us": percentile(ordered, 50),
                      "p99_us": percentile(ordered, 99)}))


def main() -> None:
    mode = sys.argv[1]
    if mode == "memory":
        asyncio.run(roundtrip(int(sys.argv[2])))
    elif mode == "notify":
        asyncio.run(notify(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]))
    else:
        bootstrap, topic, count, group = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
        asyncio.run(consume(bootstrap, topic, count, group, batch=mode == "batch"))


if __name__ == "__main__":
    main()
