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

from .common import cpu_seconds, free_port, median_row, peak_rss_mb, spawn, stop, wait_port
from .kafka import create_topic
from .load import post_load

THREADS = HTTPOptions().threads
LOGS = Path(__file__).with_name("results")
TOPIC = "order.created"


def _servers(tansu: Tansu) -> dict[str, tuple[list[str], dict[str, str]]]:
    quiet = {"SPINE_LOG_LEVEL": "WARNING"}
    return {
        "bare falcon+waitress": (["-m", "bench.servers", "bare", "{port}", str(THREADS)], {}),
        "hand-rolled confluent-kafka route": (
            ["-m", "bench.servers", "handrolled", "{port}", str(THREADS), tansu.bootstrap_servers, TOPIC], {},
        ),
        "spine order service, memory": (["-m", "apps.order_app"], {**quiet, "SPINE_BROKER": "memory"}),
        "spine order service, kafka": (
            ["-m", "apps.order_app"],
            {**quiet, "SPINE_BROKER": "kafka", "SPINE_KAFKA_BOOTSTRAP_SERVERS": tansu.bootstrap_servers},
        ),
        "spine order service, kafka, metrics off": (
            ["-m", "apps.order_app"],
            {**quiet, "SPINE_BROKER": "kafka", "SPINE_KAFKA_BOOTSTRAP_SERVERS": tansu.bootstrap_servers,
             "SPINE_METRICS": "0"},
        ),
    }


def _measured(
    tansu: Tansu, proc: subprocess.Popen[Any], port: int, concurrency: int, seconds: float
) -> dict[str, float]:
    """One load run, with the CPU time per request the server and the broker spent."""
    server, broker = cpu_seconds(proc.pid), cpu_seconds(tansu.process.pid)
    figures = post_load(port, concurrency, seconds)
    requests = figures["rps"] * max(1, round(seconds))
    figures["server_cpu_us_per_req"] = (cpu_seconds(proc.pid) - server) / requests * 1e6
    figures["broker_cpu_us_per_req"] = (cpu_seconds(tansu.process.pid) - broker) / requests * 1e6
    return figures


def run(tansu: Tansu, reps: int, seconds: float) -> dict[str, Any]:
    """Requests/s and latency at concurrency 1 and 16 per server, then each one's VmHWM."""
    create_topic(tansu.bootstrap_servers, TOPIC)
    procs: dict[str, tuple[subprocess.Popen[Any], int]] = {}
    try:
        for name, (args, env) in _servers(tansu).items():
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
            for concurrency in (1, 16):
                for name, (proc, port) in procs.items():
                    sample = _measured(tansu, proc, port, concurrency, seconds)
                    samples.setdefault((name, concurrency), []).append(sample)
        rows = {f"{name} c={c}": median_row(s) for (name, c), s in samples.items()}
        rss = {name: peak_rss_mb(proc.pid) for name, (proc, _) in procs.items()}
        return {"threads": THREADS, "seconds": seconds, "rows": rows, "peak_rss_mb": rss}
    finally:
        for proc, _ in procs.values():
            stop(proc)
