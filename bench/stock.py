"""The consuming side of the benchmarks, each run as its own process.

``python -m bench.stock preload BOOTSTRAP TOPIC COUNT [json|msgpack]``: produce COUNT ``order.created``
events in Spine's wire format (value and headers as the order service sends them), encoded by the
codec named (default JSON; its ``content-type`` header tells the consumer how to decode them).

``python -m bench.stock raw BOOTSTRAP TOPIC COUNT GROUP``: the ceiling, a plain
confluent-kafka loop: ``consume(num_messages=500)``, ``json.loads`` per value,
a commit every 1,000 messages.

``python -m bench.stock spine BOOTSTRAP TOPIC COUNT GROUP``: the stock service's handler
shape (typed event decoded, no per-message logging) through Spine's full consumer
pipeline on the ``kafka`` plugin, at-least-once commits. TOPIC is ``<prefix>order.created``;
the prefix becomes the app's topic prefix.

``python -m bench.stock inline BOOTSTRAP TOPIC COUNT GROUP``: the raw loop doing Spine's
per-message work on the polling thread (the kafka plugin's message conversion, then the
core's ``deliver``: decode, context, metrics, handler); no worker threads. Between
``raw`` and ``spine``, it shows what the pipeline itself costs and what the handoff to
worker threads costs.

``raw``, ``inline`` and ``spine`` print messages/s from the first message to the last and the
process's peak RSS as one JSON line.

``python -m bench.stock notify BOOTSTRAP UDP_PORT GROUP``: a stock service whose handler,
first thing, sends ``order_id perf_counter()`` to 127.0.0.1:UDP_PORT (for the end-to-end
benchmark); it runs until SIGTERM.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from datetime import datetime, timezone
from typing import Any

from apps.events import OrderCreated
from spine_core import BrokerOptions, Context, Options, ReadOptions, Spine
from spine_core.ops.logs import configure_logging

from .common import peak_rss_mb

clock = time.perf_counter
EVENT = "order.created"
JOIN = {"session.timeout.ms": "6000", "heartbeat.interval.ms": "500"}
"""Tansu takes about half the session timeout to admit a member to a group."""


def preload(bootstrap: str, topic: str, count: int, codec_name: str = "json") -> None:
    from confluent_kafka import Producer

    from spine_core.codecs.base import Codec
    from spine_core.codecs.json import JSON
    from spine_core.codecs.msgpack import MSGPACK
    from spine_core.event import to_message

    codecs: dict[str, Codec] = {"json": JSON, "msgpack": MSGPACK}
    codec = codecs[codec_name]
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "acks": "all"})
    now = datetime.now(timezone.utc)
    for i in range(count):
        m = to_message(OrderCreated(order_id=i, at=now), "", "preload", codec=codec)
        while True:
            try:
                producer.produce(topic, m.value, key=m.key, headers=list(m.headers.items()))
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    if producer.flush(60):
        raise SystemExit("preload: not every message was confirmed")
    print(json.dumps({"preloaded": count}))


def group_consumer(bootstrap: str, topic: str, group: str) -> Any:
    """A plain confluent-kafka consumer of ``topic`` in ``group``, from the beginning, manual commits."""
    from confluent_kafka import Consumer

    consumer = Consumer({
        "bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
        "enable.auto.commit": False, **JOIN,
    })
    consumer.subscribe([topic])
    return consumer


def raw(bootstrap: str, topic: str, count: int, group: str) -> None:
    consumer = group_consumer(bootstrap, topic, group)
    seen = 0
    first = last = 0.0
    while seen < count:
        for message in consumer.consume(num_messages=500, timeout=1.0):
            if message.error():
                continue
            if not seen:
                first = clock()
            json.loads(message.value() or b"null")
            seen += 1
            if seen % 1000 == 0:
                consumer.commit(asynchronous=True)
        last = clock()
    if seen % 1000:
        consumer.commit(asynchronous=False)
    consumer.close()
    print(json.dumps({"messages_per_s": (count - 1) / (last - first), "peak_rss_mb": peak_rss_mb(os.getpid())}))


class Counting:
    """The stock handler's shape without logging: counts, and notes the first and last call."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.seen = 0
        self.first = self.last = 0.0
        self.done = threading.Event()
        self._lock = threading.Lock()

    def on_created(self, ctx: Context, event_name: str, event: OrderCreated) -> None:
        now = clock()
        with self._lock:
            if not self.seen:
                self.first = now
            self.seen += 1
            if self.seen == self.count:
                self.last = now
                self.done.set()


class CountingBatch(Counting):
    """The same, as a batch handler: ``list[OrderCreated]``."""

    def on_created(self, events: list[OrderCreated]) -> None:  # type: ignore[override]
        now = clock()
        with self._lock:
            if not self.seen:
                self.first = now
            self.seen += len(events)
            if self.seen >= self.count:
                self.last = now
                self.done.set()


class Notifying:
    """The stock handler's shape; tells the benchmark client when it was entered."""

    def __init__(self, port: int) -> None:
        self.address = ("127.0.0.1", port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def on_created(self, ctx: Context, event_name: str, event: OrderCreated) -> None:
        self.sock.sendto(f"{event.order_id} {clock()!r}".encode(), self.address)


def stock_app(
    handler: Any, bootstrap: str, group: str, prefix: str = "", max_batch: int = 100
) -> tuple[Spine, Options]:
    app = Spine()
    kind = type(handler)

    def the_handler() -> Any:
        return handler

    the_handler.__annotations__ = {"return": kind}
    app.constructor(the_handler)
    app.consumers().register(EVENT, kind.on_created, max_batch=max_batch)
    settings = {"bootstrap.servers": bootstrap, **{f"consumer.{k}": v for k, v in JOIN.items()}}
    options = Options(http=None, broker=BrokerOptions(
        name="kafka", settings={"kafka": settings}, read=ReadOptions(group_id=group), topic_prefix=prefix,
    ))
    return app, options


def spine(bootstrap: str, topic: str, count: int, group: str) -> None:
    if not topic.endswith(EVENT):
        raise SystemExit(f"the topic must be <prefix>{EVENT}, got {topic!r}")
    batch = int(os.environ.get("BENCH_BATCH", "0"))  # a batch handler of up to this many events
    handler = CountingBatch(count) if batch else Counting(count)
    app, options = stock_app(handler, bootstrap, group, topic[: -len(EVENT)], max_batch=batch or 100)
    service = app.start(options)
    if not handler.done.wait(240):
        raise SystemExit(f"only {handler.seen} of {count} messages handled")
    service.stop(10)
    rate = (count - 1) / (handler.last - handler.first)
    print(json.dumps({"messages_per_s": rate, "peak_rss_mb": peak_rss_mb(os.getpid())}))


def inline(bootstrap: str, topic: str, count: int, group: str) -> None:
    from spine_core.runtime import Runtime
    from spine_kafka.consumer import incoming

    handler = Counting(count)
    app, options = stock_app(handler, bootstrap, group, topic[: -len(EVENT)])
    deliver = Runtime(app, options.with_env()).subscriptions[0].deliver
    consumer = group_consumer(bootstrap, topic, group)
    seen = 0
    while seen < count:
        for message in consumer.consume(num_messages=500, timeout=1.0):
            if message.error():
                continue
            deliver(incoming(message, message.partition() or 0, message.offset() or 0))
            seen += 1
            if seen % 1000 == 0:
                consumer.commit(asynchronous=True)
    if seen % 1000:
        consumer.commit(asynchronous=False)
    consumer.close()
    rate = (count - 1) / (handler.last - handler.first)
    print(json.dumps({"messages_per_s": rate, "peak_rss_mb": peak_rss_mb(os.getpid())}))


def notify(bootstrap: str, port: int, group: str) -> None:
    from spine_core.serve import wait_for_signal

    app, options = stock_app(Notifying(port), bootstrap, group)
    service = app.start(options)
    print("started", flush=True)
    wait_for_signal()
    service.stop(10)


def main() -> None:
    configure_logging()  # as a service does: SPINE_LOG_LEVEL, INFO by default
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "preload":
        preload(args[0], args[1], int(args[2]), *args[3:4])
    elif mode == "raw":
        raw(args[0], args[1], int(args[2]), args[3])
    elif mode == "inline":
        inline(args[0], args[1], int(args[2]), args[3])
    elif mode == "spine":
        spine(args[0], args[1], int(args[2]), args[3])
    elif mode == "notify":
        notify(args[0], int(args[1]), args[2])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
