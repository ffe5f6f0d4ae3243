"""Benchmark 6: ``POST /orders/N`` with the outbox (spine-postgres) beside direct publishing,
and the relay's events/s.

``python -m bench.outbox [--reps N] [--seconds S] [--events N]``. Each server runs in its
own process on a private Tansu; the outbox service on a database of the benchmark's own
(``SPINE_BENCH_POSTGRES_URL``, default ``postgresql://postgres@127.0.0.1:5432/postgres``,
dropped after), its ``orders`` table emptied before each run. The relay figure: events
written to the outbox beforehand, then one ``spine relay`` process publishes them; the
rate is events / (last published_at - first published_at).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from apps.events import OrderCreated
from spine_core.event import to_message
from spine_kafka.tansu import Tansu
from spine_postgres import outbox
from spine_postgres.schema import create_tables

from .common import free_port, median_row, spawn, stop, wait_port
from .kafka import create_topic
from .load import post_load

POSTGRES_URL = os.environ.get("SPINE_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
TOPIC = "order.created"


@contextmanager
def database() -> Iterator[str]:
    """A database of the benchmark's own, dropped afterwards."""
    name = f"spine_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield make_conninfo(POSTGRES_URL, dbname=name)
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _env(tansu: Tansu, **extra: str) -> dict[str, str]:
    return {"SPINE_LOG_LEVEL": "WARNING", "SPINE_BROKER": "kafka",
            "SPINE_KAFKA_BOOTSTRAP_SERVERS": tansu.bootstrap_servers, **extra}


def _reset(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("TRUNCATE orders, spine_outbox")


def requests(tansu: Tansu, dsn: str, reps: int, seconds: float) -> dict[str, Any]:
    """Requests/s and p50 at concurrency 1 and 16: direct publishing, then the outbox."""
    servers = {
        "direct publish (kafka)": _env(tansu),
        "outbox (postgres + kafka, in-process relay)": _env(tansu, SPINE_POSTGRES_DSN=dsn, SPINE_POSTGRES_INIT="1"),
    }
    procs: dict[str, tuple[subprocess.Popen[Any], int]] = {}
    try:
        for name, env in servers.items():
            port = free_port()
            proc = spawn(["-m", "apps.order_app"], {**env, "SPINE_ADDRESS": f"127.0.0.1:{port}"})
            procs[name] = (proc, port)
        for name, (proc, port) in procs.items():
            wait_port(port, 60, proc)
            post_load(port, 16, 1)  # warm-up
        samples: dict[str, list[dict[str, float]]] = {}
        for _ in range(reps):
            for concurrency in (1, 16):
                for name, (proc, port) in procs.items():
                    _reset(dsn)
                    samples.setdefault(f"{name} c={concurrency}", []).append(post_load(port, concurrency, seconds))
        return {"seconds": seconds, "rows": {k: median_row(v) for k, v in samples.items()}}
    finally:
        for proc, _ in procs.values():
            stop(proc)


def relay_rate(tansu: Tansu, dsn: str, reps: int, events: int) -> dict[str, Any]:
    """Events/s one ``spine relay`` process publishes from a pre-filled outbox."""
    now = datetime.now(timezone.utc)
    messages = [to_message(OrderCreated(order_id=n, at=now), "", "bench") for n in range(events)]
    samples = []
    for _ in range(reps):
        with psycopg.connect(dsn) as connection:
            create_tables(connection)
            connection.execute("TRUNCATE spine_outbox")
            with connection.transaction():
                outbox.write(connection, messages)
        proc = spawn(["-m", "spine_core.cli", "relay", "apps.order_app"],
                     _env(tansu, SPINE_POSTGRES_DSN=dsn, SPINE_LOG_LEVEL="WARNING"))
        try:
            deadline = time.monotonic() + 300
            with psycopg.connect(dsn, autocommit=True) as connection:
                while (pending := outbox.backlog(connection).rows) and time.monotonic() < deadline:
                    time.sleep(0.2)
                assert pending == 0, f"{pending} events not relayed within 300s"
                row = connection.execute(
                    "SELECT extract(epoch FROM max(published_at) - min(published_at))::float8 FROM spine_outbox"
                ).fetchone()
        finally:
            stop(proc)
        assert row is not None
        samples.append({"events_per_s": events / max(row[0], 1e-6), "seconds": float(row[0])})
    return {"events": events, "row": median_row(samples)}


def run(tansu: Tansu, reps: int, seconds: float, events: int) -> dict[str, Any]:
    create_topic(tansu.bootstrap_servers, TOPIC)
    with database() as dsn:
        return {"requests": requests(tansu, dsn, reps, seconds), "relay": relay_rate(tansu, dsn, reps, events)}


def print_table(results: dict[str, Any]) -> None:
    print(f"{'POST /orders/N':58} {'req/s':>8} {'p50 ms':>8} {'errors':>7}")
    for name, row in results["requests"]["rows"].items():
        print(f"{name:58} {row['rps']:8.0f} {row['p50_ms']:8.2f} {row['errors']:7.0f}")
    relay = results["relay"]["row"]
    print(f"relay: {relay['events_per_s']:.0f} events/s ({results['relay']['events']} events, one process)")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.outbox", description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--events", type=int, default=20000)
    args = parser.parse_args()
    with Tansu.start() as tansu:
        results = run(tansu, args.reps, args.seconds, args.events)
    print_table(results)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
