"""``python -m bench`` (or ``./dev bench``): run every benchmark, print the table, write JSON.

Options: ``--reps N`` repetitions per figure (median reported, default 3),
``--seconds S`` per load run (default 5), ``--messages N`` for the consumer
benchmark (default 100,000), ``--orders N`` for end to end (default 500),
``--only breakdown,publish,consumer,memory,e2e,outbox,codecs,nats,brokers`` to run a subset, ``--servers WORD,...``
to run only the publish servers whose names hold one of the words (``granian``, ``faststream``,
``2 workers``...), ``--out PATH``.
"""

from __future__ import annotations

import argparse
import json
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from spine_kafka.config import CONSUMER_DEFAULTS
from spine_kafka.tansu import Tansu

from . import brokers, e2e, nats, outbox, publish, scenario
from .common import machine, median_row, run_json
from .kafka import create_topic
from .load import generator
from .report import print_report, targets

RESULTS = Path(__file__).with_name("results")
SECTIONS = ("breakdown", "publish", "consumer", "memory", "e2e", "outbox", "codecs", "nats", "brokers")
FASTSTREAM_E2E = "fastapi+faststream, fetch_max_wait_ms as the plugin's default"
OTHER_FETCH_WAIT_MS = 100
"""The e2e benchmark also runs with this fetch.wait.max.ms (the plugin's default before), for the trade-off."""


def consumer_bench(tansu: Tansu, reps: int, count: int) -> dict[str, Any]:
    """Benchmark 2: raw loop and Spine pipeline over the same pre-loaded topics (JSON events, and the
    same events as msgpack on a topic of their own), interleaved."""
    topics = {}
    for codec in ("json", "msgpack"):  # a prefix of their own: the publish runs filled order.created
        topic = topics[codec] = f"bench-{uuid.uuid4().hex[:8]}.order.created"
        create_topic(tansu.bootstrap_servers, topic)
        run_json(["-m", "bench.stock", "preload", tansu.bootstrap_servers, topic, str(count), codec])
    stock, faststream = "bench.stock", "bench.faststream_consumer"
    modes = {
        "raw": (stock, "raw", {}, "json"),
        "inline": (stock, "inline", {}, "json"),
        "spine": (stock, "spine", {}, "json"),
        "spine, 1 worker": (stock, "spine", {"SPINE_KAFKA_WORKERS": "1"}, "json"),
        "spine, metrics off": (stock, "spine", {"SPINE_METRICS": "0"}, "json"),
        "spine batch handler (max_batch=500)": (stock, "spine", {"BENCH_BATCH": "500"}, "json"),
        "spine, msgpack": (stock, "spine", {}, "msgpack"),
        "spine batch handler, msgpack": (stock, "spine", {"BENCH_BATCH": "500"}, "msgpack"),
        "faststream subscriber": (faststream, "one", {}, "json"),
        "faststream batch subscriber": (faststream, "batch", {}, "json"),
    }
    samples: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
    for _ in range(reps):
        for label, (module, mode, env, codec) in modes.items():
            group = f"bench-{mode}-{uuid.uuid4().hex[:8]}"
            args = ["-m", module, mode, tansu.bootstrap_servers, topics[codec], str(count), group]
            samples[label].append(run_json(args, env, timeout=900))
    return {"messages": count, "rows": {m: median_row(s) for m, s in samples.items()}}


def memory_bench(reps: int, events: int) -> dict[str, Any]:
    """Benchmark 3: memory broker roundtrip (own process per repetition) and the scenario test."""
    rows = [run_json(["-m", "bench.memory", str(events)]) for _ in range(reps)]
    faststream = [run_json(["-m", "bench.faststream_consumer", "memory", str(events)]) for _ in range(reps)]
    tests = [scenario.run() for _ in range(reps)]
    return {"events": events, "roundtrip": median_row(rows), "faststream_testbroker": median_row(faststream),
            "scenario_test": median_row(tests)}


def e2e_bench(tansu: Tansu, reps: int, orders: int) -> dict[str, Any]:
    """Benchmark 4 with the plugin's default fetch.wait.max.ms and with OTHER_FETCH_WAIT_MS."""
    rows: dict[str, Any] = {}
    default = CONSUMER_DEFAULTS["fetch.wait.max.ms"]
    settings = (
        (f"plugin default fetch.wait.max.ms={default}", None),
        (f"fetch.wait.max.ms={OTHER_FETCH_WAIT_MS}", OTHER_FETCH_WAIT_MS),
    )
    for label, wait in settings:
        rows[label] = median_row([e2e.run(tansu, orders, wait) for _ in range(reps)])
    rows[FASTSTREAM_E2E] = median_row([e2e.run(tansu, orders, stack="faststream") for _ in range(reps)])
    return {"orders": orders, "rows": rows}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--only", default=",".join(SECTIONS))
    parser.add_argument("--servers", default="")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args()
    only = set(args.only.split(","))
    results: dict[str, Any] = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(), "load_generator": generator(), "repetitions": args.reps,
    }
    started = time.monotonic()

    def section(name: str, key: str, run: Callable[[], Any]) -> None:
        """Run one benchmark; a failure is reported and recorded, and the others still run."""
        if name not in only:
            return
        try:
            results[key] = run()
        except Exception as e:
            traceback.print_exc()
            results.setdefault("errors", {})[name] = f"{type(e).__name__}: {e}"

    section("breakdown", "breakdown_us", lambda: run_json(["-m", "bench.breakdown"]))
    section("codecs", "codecs_us", lambda: run_json(["-m", "bench.codecs"]))
    section("memory", "memory", lambda: memory_bench(args.reps, args.events))
    if only & {"publish", "consumer", "e2e", "outbox"}:
        with Tansu.start() as tansu:
            section("publish", "publish", lambda: publish.run(tansu, args.reps, args.seconds, args.servers))
            section("consumer", "consumer", lambda: consumer_bench(tansu, args.reps, args.messages))
            section("e2e", "e2e", lambda: e2e_bench(tansu, args.reps, args.orders))
            section("outbox", "outbox", lambda: outbox.run(tansu, args.reps, args.seconds, args.events))
    section("nats", "nats", lambda: nats.run(args.reps, args.seconds, args.messages))
    section("brokers", "brokers", lambda: brokers.run(args.reps, args.seconds))
    results["duration_s"] = time.monotonic() - started
    results["targets"] = targets(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print_report(results)
    print(f"\nresults written to {args.out}")


if __name__ == "__main__":
    main()
