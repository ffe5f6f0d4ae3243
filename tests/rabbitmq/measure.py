"""Figures over RabbitMQ: ``python -m tests.rabbitmq.measure [--orders N] [--messages N]``.

1. Sequential ``POST /orders/N`` against the seed's order service (its own process,
   ``SPINE_BROKER=rabbitmq``): each answer waits for RabbitMQ's publisher confirm;
   p50/p99 over ``--orders`` requests on one keep-alive connection, after a warm-up.
2. Consumer throughput: ``--messages`` events preloaded into a group's queue, then
   consumed through Spine's full pipeline (typed event decoded, handler counts, ack
   per message); messages/s from the first delivery to the last.

Everything is declared on a fresh exchange and deleted afterwards. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any

import pika

from apps.events import OrderCreated
from spine_core import BrokerOptions, Options, ReadOptions, Spine, WriteOptions
from spine_core.options import BrokerConfig
from spine_core.pipeline.dispatch import to_message
from spine_rabbitmq.config import DEFAULT_URL, queue_name
from spine_rabbitmq.plugin import RabbitMQPlugin

from .processes import ServiceProcess

URL = os.environ.get("SPINE_TEST_RABBITMQ_URL", DEFAULT_URL)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def post_latency(exchange: str, prefix: str, orders: int) -> dict[str, float]:
    channel = pika.BlockingConnection(pika.URLParameters(URL)).channel()
    probe = prefix + "probe"
    channel.exchange_declare(exchange, exchange_type="topic", durable=True)
    channel.queue_declare(probe, durable=True)
    channel.queue_bind(probe, exchange, routing_key=prefix + "order.created")
    service = ServiceProcess("apps.order_app", {
        "SPINE_BROKER": "rabbitmq", "SPINE_RABBITMQ_URL": URL, "SPINE_RABBITMQ_EXCHANGE": exchange,
        "SPINE_RABBITMQ_TOPIC_PREFIX": prefix, "SPINE_ADDRESS": "127.0.0.1:0",
    })
    try:
        conn = http.client.HTTPConnection("127.0.0.1", service.port(), timeout=30)
        latencies = []
        for n in range(orders + 100):
            started = time.perf_counter()
            conn.request("POST", f"/orders/{n}", body=b"")
            response = conn.getresponse()
            body = response.read()
            if response.status != 200:
                raise RuntimeError(f"POST /orders/{n}: {response.status} {body!r}")
            if n >= 100:
                latencies.append((time.perf_counter() - started) * 1000)
        conn.close()
        return {"post_p50_ms": round(percentile(latencies, 50), 3), "post_p99_ms": round(percentile(latencies, 99), 3)}
    finally:
        service.terminate()
        service.close()
        channel.queue_delete(probe)
        channel.connection.close()


class Counter:
    """The stock handler's shape without logging: the decoded event, counted."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.count = 0
        self.first = self.last = 0.0
        self.done = threading.Event()

    def on_created(self, event: OrderCreated) -> None:
        now = time.perf_counter()
        if not self.count:
            self.first = now
        self.count += 1
        if self.count >= self.expected:
            self.last = now
            self.done.set()


def consumer_throughput(exchange: str, prefix: str, messages: int) -> dict[str, float]:
    group, topic = prefix + "stock", prefix + "order.created"
    settings = {"url": URL, "exchange": exchange}
    counter = Counter(messages)

    def make() -> Counter:
        return counter

    app = Spine()
    app.constructor(make)
    app.consumers().register("order.created", Counter.on_created)
    options = Options(http=None, broker=BrokerOptions(
        name="rabbitmq", topic_prefix=prefix, read=ReadOptions(group_id=group), settings={"rabbitmq": settings}))
    # Declare the group's queue (and stop) so that the preload is routed to it.
    app.start(options).stop(timeout=5)
    publisher = RabbitMQPlugin(BrokerConfig(name="rabbitmq", topic_prefix=prefix, write=WriteOptions(),
                                            settings=settings))
    publisher.spine_broker_start()
    now = datetime.now(timezone.utc)
    for start in range(0, messages, 500):
        batch = [to_message(OrderCreated(i, now), prefix, "measure") for i in range(start, min(messages, start + 500))]
        publisher.spine_publish(messages=batch, timeout=30)
    publisher.spine_broker_close(timeout=5)
    service = app.start(options)
    try:
        if not counter.done.wait(300):
            raise RuntimeError(f"consumed only {counter.count} of {messages}")
    finally:
        service.stop(timeout=10)
        channel = pika.BlockingConnection(pika.URLParameters(URL)).channel()
        channel.queue_delete(queue_name(group, topic))
        channel.queue_delete(topic + ".dlq")
        channel.connection.close()
    return {"consumer_messages_per_s": round(messages / (counter.last - counter.first))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20000)
    args = parser.parse_args()
    run = uuid.uuid4().hex[:8]
    exchange, prefix = f"spine-measure-{run}", f"m{run}."
    result: dict[str, Any] = {"broker": "rabbitmq", "orders": args.orders, "messages": args.messages}
    try:
        result.update(post_latency(exchange, prefix, args.orders))
        result.update(consumer_throughput(exchange, prefix, args.messages))
    finally:
        channel = pika.BlockingConnection(pika.URLParameters(URL)).channel()
        channel.exchange_delete(exchange)
        channel.connection.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
