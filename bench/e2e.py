"""Benchmark 4: ``POST /orders/N`` → the stock handler entered, over Kafka (Tansu).

The order service and a stock service (handler shape of the seed's, which first
sends ``order_id perf_counter()`` over UDP) run as their own processes; the client
here sends one order at a time, the next once the previous one reached the handler.
``perf_counter`` is CLOCK_MONOTONIC on Linux, comparable across processes.
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import time
import uuid
from typing import Any

from spine_kafka.tansu import Tansu

from .common import free_port, peak_rss_mb, percentile, spawn, stop, wait_port
from .kafka import create_topic

clock = time.perf_counter


def _order_service(tansu: Tansu, port: int, prefix: str) -> subprocess.Popen[Any]:
    return spawn(["-m", "apps.order_app"], {
        "SPINE_LOG_LEVEL": "WARNING", "SPINE_BROKER": "kafka", "SPINE_ADDRESS": f"127.0.0.1:{port}",
        "SPINE_KAFKA_BOOTSTRAP_SERVERS": tansu.bootstrap_servers, "SPINE_KAFKA_TOPIC_PREFIX": prefix,
    })


def run(tansu: Tansu, orders: int, fetch_wait_ms: int | None = None, stack: str = "spine") -> dict[str, Any]:
    """p50/p99 of POST → handler entered over ``orders`` sequential orders.

    ``fetch_wait_ms`` overrides the stock service's ``fetch.wait.max.ms`` (None: the plugin's default).
    ``stack="faststream"``: both services are FastAPI+FastStream's instead (bench.faststream_app and
    bench.faststream_consumer's ``notify``) on the same Kafka.
    """
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    udp.settimeout(30)
    http_port = free_port()
    env = {"SPINE_LOG_LEVEL": "WARNING"}
    if fetch_wait_ms is not None:
        env["SPINE_KAFKA_CONSUMER_FETCH_WAIT_MAX_MS"] = str(fetch_wait_ms)
    run_id = uuid.uuid4().hex[:8]
    group = f"stock-e2e-{run_id}"
    env["SPINE_KAFKA_TOPIC_PREFIX"] = f"e2e-{run_id}."  # topics of its own: the publish runs filled order.created
    udp_port = str(udp.getsockname()[1])
    if stack == "faststream":
        topic = env["SPINE_KAFKA_TOPIC_PREFIX"] + "order.created"
        create_topic(tansu.bootstrap_servers, topic)  # aiokafka would see a topic made later only at its next refresh
        stock = spawn(["-m", "bench.faststream_consumer", "notify", tansu.bootstrap_servers, udp_port, group, topic],
                      env, stdout=subprocess.PIPE, text=True)
        orders_proc = spawn(["-m", "bench.faststream_app", str(http_port), tansu.bootstrap_servers, topic])
    else:
        stock = spawn(["-m", "bench.stock", "notify", tansu.bootstrap_servers, udp_port, group], env,
                      stdout=subprocess.PIPE, text=True)
        orders_proc = _order_service(tansu, http_port, env["SPINE_KAFKA_TOPIC_PREFIX"])
    try:
        assert stock.stdout is not None
        if stock.stdout.readline().strip() != "started":
            raise RuntimeError("the stock service did not start")
        wait_port(http_port, 60, orders_proc)
        conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=30)

        def order(order_id: int) -> tuple[float, float]:
            t0 = clock()
            conn.request("POST", f"/orders/{order_id}", body=b"")
            response = conn.getresponse()
            response.read()
            answered = clock()
            if response.status != 200:
                raise RuntimeError(f"POST /orders/{order_id} answered {response.status}")
            while True:
                got, entered = udp.recv(100).split()
                if int(got) == order_id:
                    return (answered - t0) * 1000, (float(entered) - t0) * 1000

        order(0)  # the group joins and is assigned its partitions: wait until it delivers
        samples = [order(i) for i in range(1, orders + 1)]
        post = sorted(s[0] for s in samples)
        e2e = sorted(s[1] for s in samples)
        return {
            "p50_ms": percentile(e2e, 50), "p99_ms": percentile(e2e, 99),
            "post_p50_ms": percentile(post, 50), "post_p99_ms": percentile(post, 99),
            "stock_peak_rss_mb": peak_rss_mb(stock.pid),
        }
    finally:
        stop(orders_proc)
        stop(stock)
        udp.close()
