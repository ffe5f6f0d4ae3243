"""Benchmark 1 (publish path) and 5 (peak memory of the services).

Every server runs in its own process (its output goes to ``bench/results/<name>.log``)
with the same number of waitress threads (Spine's default), the load generator in
another; repetitions are interleaved so that the rows of one run are measured side
by side.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from spine_core.options import HTTPOptions
from spine_kafka.tansu import Tansu

from . import wire
from .common import free_port, median_row, spawn, stop, tree_cpu_seconds, tree_peak_rss_mb, tree_pids, wait_port
from .kafka import create_topic
from .load import post_load

THREADS = HTTPOptions().threads
LOGS = Path(__file__).with_name("results")
TOPIC = "order.created"
FASTSTREAM = "fastapi+faststream (uvicorn, uvloop, httptools)"
MANY = (256, 1000)
"""Keep-alive connections of the many-connections rows, run for the servers ``_many`` names."""


def _many(name: str) -> bool:
    """The rows measured at MANY connections too: bare Falcon, Spine's memory-broker route (both
    servers) and FastAPI+FastStream; the other rows only at 1 and 16, to keep the run short."""
    return name.startswith(("bare falcon", "spine order service, memory")) or name == FASTSTREAM


def _on_kafka(name: str) -> bool:
    """The rows whose requests produce to Kafka (counted on the wire), but for the variants of Spine's."""
    return ("kafka" in name or name == FASTSTREAM) and not name.endswith(("2 workers", "metrics off"))


def _servers(tansu: Tansu) -> dict[str, tuple[list[str], dict[str, str]]]:
    quiet = {"SPINE_LOG_LEVEL": "WARNING"}
    kafka = {**quiet, "SPINE_BROKER": "kafka", "SPINE_KAFKA_BOOTSTRAP_SERVERS": tansu.bootstrap_servers}
    rows: dict[str, tuple[list[str], dict[str, str]]] = {}
    for server in ("waitress", "granian"):
        tail = [] if server == "waitress" else [server]
        suffix = "" if server == "waitress" else ", granian"
        rows.update({
            f"bare falcon+{server}": (["-m", "bench.servers", "bare", "{port}", str(THREADS), *tail], {}),
            f"hand-rolled confluent-kafka route{suffix}": (
                ["-m", "bench.servers", "handrolled", "{port}", str(THREADS), tansu.bootstrap_servers, TOPIC, *tail],
                {},
            ),
            f"spine order service, memory{suffix}": (
                ["-m", "apps.order_app"], {**quiet, "SPINE_BROKER": "memory", "SPINE_SERVER": server},
            ),
            f"spine order service, kafka{suffix}": (["-m", "apps.order_app"], {**kafka, "SPINE_SERVER": server}),
            f"spine order service, kafka{suffix}, 2 workers": (
                ["-m", "apps.order_app"], {**kafka, "SPINE_SERVER": server, "SPINE_WORKERS": "2"},
            ),
        })
    rows["spine order service, kafka, metrics off"] = (["-m", "apps.order_app"], {**kafka, "SPINE_METRICS": "0"})
    rows[FASTSTREAM] = (["-m", "bench.faststream_app", "{port}", tansu.bootstrap_servers, TOPIC], {})
    return rows


def _measured(
    tansu: Tansu, proc: subprocess.Popen[Any], port: int, concurrency: int, seconds: float
) -> dict[str, float]:
    """One load run, with the CPU time per request the server and the broker spent."""
    server, broker = tree_cpu_seconds(proc.pid), tree_cpu_seconds(tansu.process.pid)
    figures = post_load(port, concurrency, seconds)
    requests = figures["rps"] * max(1, round(seconds))
    figures["server_cpu_us_per_req"] = (tree_cpu_seconds(proc.pid) - server) / requests * 1e6
    figures["broker_cpu_us_per_req"] = (tree_cpu_seconds(tansu.process.pid) - broker) / requests * 1e6
    return figures


def _on_the_wire(
    tansu: Tansu, proc: subprocess.Popen[Any], port: int, concurrency: int, seconds: float
) -> dict[str, float] | None:
    """One load run with the produce requests of ``proc`` counted on the wire: messages per
    request and the broker's CPU per request (``None`` when tcpdump cannot capture here)."""
    with wire.capture(tansu.port) as pcap:
        if pcap is None:
            return None
        broker = tree_cpu_seconds(tansu.process.pid)
        answered = post_load(port, concurrency, seconds)["requests"]
        broker = tree_cpu_seconds(tansu.process.pid) - broker
        ports = wire.local_ports(tree_pids(proc.pid))
    produce = wire.requests_by_api(pcap, ports)[wire.PRODUCE]
    pcap.unlink()
    return {"messages": answered, "produce_requests": float(produce),
            "messages_per_request": answered / produce if produce else 0.0,
            "broker_cpu_us_per_request": broker / produce * 1e6 if produce else 0.0}


def run(tansu: Tansu, reps: int, seconds: float, only: str = "") -> dict[str, Any]:
    """Requests/s and latency at concurrency 1 and 16 per server (and at MANY for ``_many`` ones),
    then each one's VmHWM (summed over its worker processes), then a run more of each Kafka row at
    1 and 16 with its produce requests counted on the wire (:mod:`bench.wire`). ``only``: comma-separated words,
    a server runs if its name has one."""
    create_topic(tansu.bootstrap_servers, TOPIC)
    procs: dict[str, tuple[subprocess.Popen[Any], int]] = {}
    words = [w for w in only.split(",") if w]
    try:
        for name, (args, env) in _servers(tansu).items():
            if words and not any(w in name for w in words):
                continue
            port = free_port()
            args = [a.replace("{port}", str(port)) for a in args]
            log = LOGS / (name.replace(" ", "_").replace(",", "") + ".log")
            log.parent.mkdir(exist_ok=True)
            with log.open("w") as out:
                proc = spawn(args, {**env, "SPINE_ADDRESS": f"127.0.0.1:{port}"}, stdout=out, stderr=out)
            procs[name] = (proc, port)
        for name, (proc, port) in procs.items():
            wait_port(port, 60, proc)
            post_load(port, 16, 1)  # warm-up: connections, topic metadata, code paths
        samples: dict[tuple[str, int], list[dict[str, float]]] = {}
        for _ in range(reps):
            for concurrency in (1, 16, *MANY):
                for name, (proc, port) in procs.items():
                    if concurrency in MANY and not _many(name):
                        continue
                    sample = _measured(tansu, proc, port, concurrency, seconds)
                    samples.setdefault((name, concurrency), []).append(sample)
        rows = {f"{name} c={c}": median_row(s) for (name, c), s in samples.items()}
        rss = {name: tree_peak_rss_mb(proc.pid) for name, (proc, _) in procs.items()}
        counted = {f"{name} c={c}": _on_the_wire(tansu, proc, port, c, seconds)
                   for c in (1, 16) for name, (proc, port) in procs.items() if _on_kafka(name)}
        return {"threads": THREADS, "seconds": seconds, "rows": rows, "peak_rss_mb": rss,
                "wire": {k: v for k, v in counted.items() if v is not None}}
    finally:
        for proc, _ in procs.values():
            stop(proc)
