"""Measure the kafka plugin on Tansu: ``.venv/bin/python tests/kafka/measure.py [--posts N] [--messages N]``.

1. Sequential ``POST /orders/N`` to ``python -m apps.order_app`` over one keep-alive
   connection: each answer waits for Kafka's delivery confirmation. Prints p50/p99.
2. Consumer throughput: N ``order.created`` events published beforehand, then one
   consumer app (the core pipeline decoding ``OrderCreated``, a handler that counts)
   started in this process; prints messages/s from its first to its last message.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(Path(__file__).resolve().parent)]

from broker_checks import ServiceProcess  # noqa: E402
from confluent_kafka import Producer  # noqa: E402
from support import kafka_env  # type: ignore[import-not-found]  # noqa: E402

from apps.events import OrderCreated  # noqa: E402
from spine_core import BrokerOptions, Options, ReadOptions, Spine  # noqa: E402
from spine_core.event import encode  # noqa: E402
from spine_core.options import BrokerConfig  # noqa: E402
from spine_core.runtime import Runtime  # noqa: E402
from spine_kafka import KafkaPlugin  # noqa: E402
from spine_kafka.tansu import TANSU_CONSUMER_SETTINGS, Tansu  # noqa: E402


def post_latency(bootstrap: str, posts: int) -> None:
    env = kafka_env(bootstrap, SPINE_ADDRESS="127.0.0.1:0", SPINE_KAFKA_TOPIC_PREFIX=f"m{uuid.uuid4().hex[:6]}.")
    orders = ServiceProcess(["-m", "apps.order_app"], env)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", orders.port(), timeout=30)
        samples = []
        for n in range(posts + 50):
            started = time.perf_counter()
            conn.request("POST", f"/orders/{n}")
            response = conn.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - started
            assert (response.status, body) == (200, b"OK"), (response.status, body)
            if n >= 50:  # the first requests warm up connections and create the topic
                samples.append(elapsed * 1000)
        samples.sort()
        p50 = statistics.median(samples)
        p99 = samples[int(len(samples) * 0.99) - 1]
        print(f"POST /orders/N sequential, {posts} requests: p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
              f"max {samples[-1]:.2f} ms")
    finally:
        orders.terminate()


def consumer_throughput(bootstrap: str, count: int) -> None:
    prefix = f"m{uuid.uuid4().hex[:6]}."
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5, "enable.idempotence": True})
    now = datetime.now(timezone.utc)
    for n in range(count):
        event = OrderCreated(order_id=n, at=now)
        producer.produce(prefix + "order.created", encode(event), key=str(n).encode(),
                         headers=[("event-name", b"order.created")])
        if n % 10000 == 0:
            producer.poll(0)
    assert producer.flush(60) == 0
    handled = 0
    first = last = 0.0
    done = threading.Event()
    lock = threading.Lock()

    def on_created(event: OrderCreated) -> None:
        nonlocal handled, first, last
        with lock:
            handled += 1
            last = time.perf_counter()
            if handled == 1:
                first = last
            if handled == count:
                done.set()

    app = Spine()
    app.consumers().register("order.created", on_created)
    settings = {"bootstrap.servers": bootstrap, **TANSU_CONSUMER_SETTINGS}
    options = Options(http=None, broker=BrokerOptions(
        name="kafka", topic_prefix=prefix, read=ReadOptions(group_id=prefix + "stock"), settings={"kafka": settings},
    ))
    runtime = Runtime(app, options, KafkaPlugin(BrokerConfig.from_options(options)))
    runtime.start()
    try:
        assert done.wait(300), f"handled {handled} of {count}"
        rate = (count - 1) / (last - first)
        print(f"consumer: {count} order.created events handled at {rate:,.0f} messages/s "
              f"({os.cpu_count()} cores shared)")
    finally:
        runtime.close(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20000)
    args = parser.parse_args()
    external = os.environ.get("SPINE_TEST_KAFKA_BOOTSTRAP_SERVERS")
    with (Tansu.start() if not external else _External(external)) as broker:
        post_latency(broker.bootstrap_servers, args.posts)
        consumer_throughput(broker.bootstrap_servers, args.messages)


class _External:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap_servers = bootstrap

    def __enter__(self) -> _External:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


if __name__ == "__main__":
    main()
