"""Benchmark 8: publishing over RabbitMQ, Redis and NATS, Spine beside FastAPI+FastStream.

For each broker, the seed's order service over Spine's plugin (on waitress and on granian) and
FastStream's app over the same broker (``bench.faststream_app``: persistent and confirmed, as Spine publishes) serve
``POST /orders/N`` at concurrency 1 and 16, interleaved; then one run more of each, with
what the server sends its broker counted on the wire (:mod:`bench.wire`): messages per TCP
segment, which is what "fewer round trips" means on these protocols.

RabbitMQ and Redis are the machine's (``BENCH_RABBITMQ_URL``, default
``amqp://guest:guest@127.0.0.1:5672/``; ``BENCH_REDIS_URL``, default
``redis://127.0.0.1:6379/0``); each run's exchanges, queues and streams have names of their
own and are deleted after it. NATS is the private server of :mod:`bench.nats`.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from typing import Any
from urllib.parse import urlsplit

from . import wire
from .common import free_port, median_row, peak_rss_mb, spawn, stop, tree_cpu_seconds, tree_pids, wait_port
from .load import post_load

RABBITMQ = os.environ.get("BENCH_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
EVENT = "order.created"
CONCURRENCY = (1, 16)


def run(reps: int, seconds: float) -> dict[str, Any]:
    """The RabbitMQ and Redis rows; a broker that is not there is an error of its own row."""
    out: dict[str, Any] = {}
    for kind, url in (("rabbitmq", RABBITMQ), ("redis", REDIS)):
        prefix = f"bench-{uuid.uuid4().hex[:8]}."
        try:
            out[kind] = publish(kind, url, prefix, reps, seconds)
        except Exception as e:  # the other broker still runs
            out[kind] = {"error": f"{type(e).__name__}: {e}"}
        finally:
            _clean(kind, url, prefix)
    return out


def publish(kind: str, url: str, prefix: str, reps: int, seconds: float) -> dict[str, Any]:
    """Spine's order service on the ``kind`` plugin and FastStream's app on ``url``, topics under ``prefix``."""
    topic = prefix + EVENT
    spine_env = {"SPINE_LOG_LEVEL": "WARNING", "SPINE_BROKER": kind, f"SPINE_{kind.upper()}_URL": url,
                 f"SPINE_{kind.upper()}_TOPIC_PREFIX": prefix}
    if kind == "rabbitmq":
        spine_env["SPINE_RABBITMQ_EXCHANGE"] = prefix + "spine"
    servers = {
        f"spine order service, {kind}": (["-m", "apps.order_app"], spine_env),
        f"spine order service, {kind}, granian": (["-m", "apps.order_app"], {**spine_env, "SPINE_SERVER": "granian"}),
        f"fastapi+faststream, {kind}": (["-m", "bench.faststream_app", "{port}", url, topic], {}),
    }
    procs: dict[str, tuple[subprocess.Popen[Any], int]] = {}
    try:
        for name, (args, env) in servers.items():
            port = free_port()
            args = [a.replace("{port}", str(port)) for a in args]
            procs[name] = (spawn(args, {**env, "SPINE_ADDRESS": f"127.0.0.1:{port}"},
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), port)
        for proc, port in procs.values():
            wait_port(port, 60, proc)
            post_load(port, 4, 1.0)  # warm: connections, streams and exchanges made
        samples: dict[str, list[dict[str, float]]] = {}
        for _ in range(reps):
            for c in CONCURRENCY:
                for name, (proc, port) in procs.items():
                    before = tree_cpu_seconds(proc.pid)
                    sample = post_load(port, c, seconds)
                    sample["server_cpu_us_per_req"] = (tree_cpu_seconds(proc.pid) - before) / sample["requests"] * 1e6
                    samples.setdefault(f"{name} c={c}", []).append(sample)
        broker_port = urlsplit(url).port or 0
        counted = {f"{name} c={c}": on_the_wire(broker_port, proc, port, c, seconds)
                   for c in CONCURRENCY for name, (proc, port) in procs.items()}
        return {"rows": {k: median_row(s) for k, s in samples.items()},
                "wire": {k: v for k, v in counted.items() if v is not None},
                "peak_rss_mb": {name: peak_rss_mb(proc.pid) for name, (proc, _) in procs.items()}}
    finally:
        for proc, _ in procs.values():
            stop(proc)


def on_the_wire(
    broker_port: int, proc: subprocess.Popen[Any], port: int, concurrency: int, seconds: float
) -> dict[str, float] | None:
    """One load run with the TCP segments ``proc`` sends to ``broker_port`` counted (``None``
    when tcpdump cannot capture here)."""
    with wire.capture(broker_port) as pcap:
        if pcap is None:
            return None
        answered = post_load(port, concurrency, seconds)["requests"]
        ports = wire.local_ports(tree_pids(proc.pid))
    sent = wire.segments(pcap, ports)
    pcap.unlink()
    return {"messages": answered, "segments": float(sent), "messages_per_segment": answered / sent if sent else 0.0}


def _clean(kind: str, url: str, prefix: str) -> None:
    """Delete what a run made on the machine's broker (its names all start with ``prefix``)."""
    try:
        if kind == "redis":
            import redis

            client = redis.Redis.from_url(url)
            for key in client.scan_iter(match=f"{prefix}*"):
                client.delete(key)
            client.close()
        elif kind == "rabbitmq":
            import pika

            connection = pika.BlockingConnection(pika.URLParameters(url))
            channel = connection.channel()
            topic = prefix + EVENT
            for queue in (f"{topic}.faststream", f"{prefix}spine.unrouted"):
                channel.queue_delete(queue)
            for exchange in (f"{topic}.faststream", f"{prefix}spine", f"{prefix}spine.unrouted"):
                channel.exchange_delete(exchange)
            connection.close()
    except Exception as e:  # nosec B110 # a leftover is reported, never fatal to the figures
        print(f"bench: could not clean {kind} after the run: {e}")
