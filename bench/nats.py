"""Benchmark 6: NATS JetStream, on a private ``nats-server -js`` (file storage) of the run's own.

Publish rows (:func:`bench.brokers.publish`): the seed's order service over the ``nats`` plugin
(``POST /orders/N``, answered once JetStream acknowledged the event) beside FastAPI+FastStream's
JetStream publish, sequential and at concurrency 16, with TCP segments counted on the wire.

Consumer rows, over one stream preloaded with COUNT ``order.created`` events in Spine's wire
format, each consumer a process of its own and a durable consumer (group) of its own:

``python -m bench.nats spine URL TOPIC COUNT GROUP``: the stock handler's shape through Spine's
full consumer pipeline on the ``nats`` plugin (acks after success);
``python -m bench.nats faststream URL TOPIC COUNT GROUP``: FastStream's NATS subscriber (a durable
pull consumer, ``PullSub(batch_size=100)``, the event decoded into a pydantic model, acked after
the handler), FastStream's logger off.

Each prints messages/s from the first message to the last and the peak RSS as one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from datetime import datetime, timezone
from typing import Any

from . import brokers
from .common import free_port, median_row, peak_rss_mb, run_json, stop, wait_port

EVENT = "order.created"
SERVER = os.environ.get("BENCH_NATS_SERVER", "nats-server")


async def _preload(url: str, topic: str, count: int) -> None:
    import nats

    from apps.events import OrderCreated
    from spine_core.event import to_message
    from spine_nats.config import stream_name
    from spine_nats.publisher import nats_headers

    client = await nats.connect(url)
    js = client.jetstream()
    await js.add_stream(name=stream_name(topic), subjects=[topic])
    now = datetime.now(timezone.utc)
    for first in range(0, count, 1000):
        acks = []
        for i in range(first, min(count, first + 1000)):
            m = to_message(OrderCreated(order_id=i, at=now), "", "preload")
            acks.append(await js.publish_async(topic, m.value, headers=nats_headers(m)))
        await asyncio.gather(*acks)
    await client.close()


def spine(url: str, topic: str, count: int, group: str) -> None:
    from spine_core import BrokerOptions, Options, ReadOptions, Spine

    from .stock import Counting

    handler = Counting(count)
    app = Spine()

    def the_handler() -> Counting:
        return handler

    the_handler.__annotations__ = {"return": Counting}  # Counting is not a global of this module
    app.constructor(the_handler)
    app.consumers().register(EVENT, Counting.on_created)
    options = Options(http=None, broker=BrokerOptions(
        name="nats", settings={"nats": {"url": url}}, read=ReadOptions(group_id=group),
        topic_prefix=topic[:-len(EVENT)],
    ))
    service = app.start(options)
    if not handler.done.wait(240):
        raise SystemExit(f"only {handler.seen} of {count} messages handled")
    service.stop(10)
    print(json.dumps({"messages_per_s": (count - 1) / (handler.last - handler.first),
                      "peak_rss_mb": peak_rss_mb(os.getpid())}))


async def faststream(url: str, topic: str, count: int, group: str) -> None:
    import time

    from faststream.nats import JStream, NatsBroker, PullSub
    from nats.js.api import DeliverPolicy
    from pydantic import BaseModel

    from spine_nats.config import stream_name

    class OrderCreated(BaseModel):
        order_id: int
        at: datetime

    broker = NatsBroker(url, logger=None)
    seen, first, last = 0, 0.0, 0.0
    done = asyncio.Event()

    @broker.subscriber(topic, stream=JStream(stream_name(topic), declare=False), durable=group,
                       deliver_policy=DeliverPolicy.ALL, pull_sub=PullSub(batch_size=100))
    async def on_event(event: OrderCreated) -> None:
        nonlocal seen, first, last
        now = time.perf_counter()
        if not seen:
            first = now
        seen += 1
        if seen >= count:
            last = now
            done.set()

    async with broker:
        await broker.start()
        await asyncio.wait_for(done.wait(), 600)
    print(json.dumps({"messages_per_s": (count - 1) / (last - first), "peak_rss_mb": peak_rss_mb(os.getpid())}))


def run(reps: int, seconds: float, count: int) -> dict[str, Any]:
    """Publish and consumer rows over a private server; repetitions interleaved."""
    if shutil.which(SERVER) is None:
        raise RuntimeError(f"{SERVER} is not installed (Debian: apt-get install nats-server)")
    port, store = free_port(), tempfile.mkdtemp(prefix="bench-nats-")
    server = subprocess.Popen([SERVER, "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"nats://127.0.0.1:{port}"
    try:
        wait_port(port, 10, server)
        publish = brokers.publish("nats", url, f"bench-{uuid.uuid4().hex[:8]}.", reps, seconds)
        return {"server": _version(), "publish": publish, "consumer": _consume(url, reps, count)}
    finally:
        stop(server)
        shutil.rmtree(store, ignore_errors=True)


def _consume(url: str, reps: int, count: int) -> dict[str, Any]:
    topic = f"bench-{uuid.uuid4().hex[:8]}.{EVENT}"
    asyncio.run(_preload(url, topic, count))
    modes = {"spine, nats": "spine", "faststream nats subscriber (pull, batch 100)": "faststream"}
    samples: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
    for _ in range(reps):
        for label, mode in modes.items():
            group = f"bench-{mode}-{uuid.uuid4().hex[:8]}"
            samples[label].append(run_json(["-m", "bench.nats", mode, url, topic, str(count), group], timeout=900))
    return {"messages": count, "rows": {m: median_row(s) for m, s in samples.items()}}


def _version() -> str:
    out = subprocess.run([SERVER, "--version"], capture_output=True, text=True, timeout=10)
    return out.stdout.strip()


def main() -> None:
    from spine_core.ops.logs import configure_logging

    configure_logging()
    mode, url, topic, count, group = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    if mode == "spine":
        spine(url, topic, count, group)
    elif mode == "faststream":
        asyncio.run(faststream(url, topic, count, group))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
