"""The printed table: every figure of a run, then each ratio against its target."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Row = tuple[str, str, str]


def _f(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


CONSUMER_LABELS = {
    "raw": "raw confluent-kafka loop",
    "faststream subscriber": "faststream subscriber (aiokafka), one event per call",
    "faststream batch subscriber": "faststream batch subscriber (batch=True, max_records=500)",
    "inline": "raw loop + Spine's per-message work, no worker threads",
    "spine, msgpack": "spine stock handler, kafka, msgpack events",
    "spine batch handler, msgpack": "spine stock handler, kafka batch handler (max_batch=500), msgpack events",
}


def figures(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for name, us in (r.get("breakdown_us") or {}).items():
        rows.append(("0 cpu/call", name, f"{us:.1f} us"))
    for event, codecs in (r.get("codecs_us") or {}).items():
        for name, us in codecs.items():
            rows.append(("6 json", f"{name}, {event}", f"{us:.2f} us"))
    if "publish" in r:
        rows += _publish_rows(r["publish"])
    if "consumer" in r:
        rows += _consumer_rows(r["consumer"])
    if "memory" in r:
        rows += _memory_rows(r["memory"])
    if "nats" in r:
        rows += _nats_rows(r["nats"])
    for kind, p in (r.get("brokers") or {}).items():
        rows += _broker_publish_rows(f"8 {kind}", p)
    if "e2e" in r:
        for name, v in r["e2e"]["rows"].items():
            latency = f"p50 {v['p50_ms']:.2f} ms  p99 {v['p99_ms']:.2f} ms  (POST p50 {v['post_p50_ms']:.2f} ms)"
            rows.append(("4 end to end", f"POST -> handler, {name}", latency))
            rows.append(("5 memory", f"peak RSS stock service (e2e, {name})", f"{v['stock_peak_rss_mb']:.1f} MB"))
    return rows


def _publish_rows(p: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for name, v in p["rows"].items():
        value = (
            f"{_f(v['rps'])} req/s  p50 {v['p50_ms']:.2f} ms  p99 {v['p99_ms']:.2f} ms"
            f"  cpu/req server {v['server_cpu_us_per_req']:.0f} us broker {v['broker_cpu_us_per_req']:.0f} us"
        )
        rows.append(("1 publish", name, value + (f"  errors {v['errors']:.0f}" if v["errors"] else "")))
    for name, v in (p.get("wire") or {}).items():
        rows.append(("1 wire", name, f"{v['messages_per_request']:.2f} messages per produce request"
                     f"  ({v['produce_requests']:,.0f} requests)  broker cpu {v['broker_cpu_us_per_request']:.0f} us"
                     " per request"))
    for name, mb in p["peak_rss_mb"].items():
        rows.append(("5 memory", f"peak RSS {name}", f"{mb:.1f} MB"))
    return rows


def _consumer_rows(c: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for name, v in c["rows"].items():
        label = CONSUMER_LABELS.get(name) or name.replace("spine", "spine stock handler, kafka", 1)
        rows.append(("2 consumer", f"{label}, {c['messages']:,} msgs", f"{_f(v['messages_per_s'])} msg/s"))
        rows.append(("5 memory", f"peak RSS {label} ({c['messages']:,} backlog)", f"{v['peak_rss_mb']:.1f} MB"))
    return rows


def _broker_publish_rows(bench: str, p: dict[str, Any]) -> list[Row]:
    """Publish rows of one broker (:func:`bench.brokers.publish`), Spine's beside FastStream's."""
    if "error" in p:
        return [(bench, "publish", f"FAILED: {p['error']}")]
    rows: list[Row] = []
    for name, v in p["rows"].items():
        value = (f"{_f(v['rps'])} req/s  p50 {v['p50_ms']:.2f} ms  p99 {v['p99_ms']:.2f} ms"
                 f"  cpu/req server {v['server_cpu_us_per_req']:.0f} us")
        rows.append((bench, f"POST, {name}", value + (f"  errors {v['errors']:.0f}" if v["errors"] else "")))
    for name, v in p["wire"].items():
        rows.append((bench, f"wire, {name}", f"{v['messages_per_segment']:.2f} messages per TCP segment sent"
                     f"  ({v['segments']:,.0f} segments)"))
    for name, mb in p["peak_rss_mb"].items():
        rows.append(("5 memory", f"peak RSS {name}", f"{mb:.1f} MB"))
    return rows


def _nats_rows(n: dict[str, Any]) -> list[Row]:
    rows = _broker_publish_rows("7 nats", n["publish"])
    c = n["consumer"]
    for name, v in c["rows"].items():
        rows.append(("7 nats", f"consumer {name}, {c['messages']:,} msgs", f"{_f(v['messages_per_s'])} msg/s"))
        rows.append(("5 memory", f"peak RSS consumer {name} ({c['messages']:,} backlog)", f"{v['peak_rss_mb']:.1f} MB"))
    return rows


def _memory_rows(memory: dict[str, Any]) -> list[Row]:
    m, s = memory["roundtrip"], memory["scenario_test"]
    rows: list[Row] = [
        ("3 in memory", "publish -> handler entered",
         f"mean {m['mean_us']:.0f} us  p50 {m['p50_us']:.0f} us  p99 {m['p99_us']:.0f} us"),
    ]
    f = memory.get("faststream_testbroker")
    if f:
        rows.append(("3 in memory", "faststream TestKafkaBroker: publish -> handler entered",
                     f"mean {f['mean_us']:.0f} us  p50 {f['p50_us']:.0f} us  p99 {f['p99_us']:.0f} us"))
    if "publish_call_mean_us" in m:
        rows.append(("3 in memory", "of which the publishing call (encode, hooks, append)",
                     f"mean {m['publish_call_mean_us']:.0f} us"))
    rows += [
        ("3 in memory", "events/s (burst from one thread)", f"{_f(m['events_per_s'])} events/s"),
        ("3 in memory", "floor: one thread waking another",
         f"mean {m['thread_wake_mean_us']:.0f} us  p50 {m['thread_wake_p50_us']:.0f} us"),
        ("3 in memory", "scenario test (in-memory e2e)",
         f"{s['test_ms']:.1f} ms test, {s['pytest_command_s']:.2f} s pytest command"),
    ]
    return rows


def _get(r: dict[str, Any], *path: str) -> Any:
    value: Any = r
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


Target = tuple[str, Callable[[dict[str, Any]], float | None], str, Callable[[float, dict[str, Any]], bool]]

SPINE = "spine order service, kafka"
BARE = "bare falcon+waitress"
HAND = "hand-rolled confluent-kafka route"
MEMORY = "spine order service, memory"
FASTSTREAM = "fastapi+faststream (uvicorn, uvloop, httptools)"


def _ratio(a: Any, b: Any) -> float | None:
    return a / b if a is not None and b else None


def _cost(on: float | None, off: float | None) -> float | None:
    """The share of throughput that metrics cost (negative: within noise, on was faster)."""
    ratio = _ratio(on, off)
    return None if ratio is None else 1 - ratio


def _publish(row: str, field: str) -> Callable[[dict[str, Any]], Any]:
    return lambda r: _get(r, "publish", "rows", row, field)


def _rss(server: str) -> Callable[[dict[str, Any]], Any]:
    """The peak RSS of a publish server's whole process tree."""
    return lambda r: _get(r, "publish", "peak_rss_mb", server)


def _broker(kind: str, row: str) -> Callable[[dict[str, Any]], Any]:
    """req/s of a publish row over NATS, RabbitMQ or Redis (benchmarks 7 and 8)."""
    def rps(r: dict[str, Any]) -> Any:
        rows = _get(r, "nats", "publish", "rows") if kind == "nats" else _get(r, "brokers", kind, "rows")
        return _get(rows or {}, row, "rps")
    return rps


def _consumer(row: str) -> Callable[[dict[str, Any]], Any]:
    return lambda r: _get(r, "consumer", "rows", row, "messages_per_s")


def _of(kind: Callable[[Any, Any], float | None], a: Callable[[dict[str, Any]], Any],
        b: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], float | None]:
    return lambda r: kind(a(r), b(r))


def _e2e_default(r: dict[str, Any]) -> float | None:
    rows = _get(r, "e2e", "rows") or {}
    return next((v["p50_ms"] for k, v in rows.items() if k.startswith("plugin default")), None)


def _tail(row: str, connections: int) -> Callable[[dict[str, Any]], float | None]:
    """p99 over the mean latency that the throughput implies (connections / throughput)."""
    def tail(r: dict[str, Any]) -> float | None:
        p99, rps = _get(r, "publish", "rows", row, "p99_ms"), _get(r, "publish", "rows", row, "rps")
        return p99 / (connections / rps * 1000) if p99 is not None and rps else None
    return tail


def _many_targets() -> list[Target]:
    """Spine's memory-broker route at 256 and 1,000 keep-alive connections, on each server: the
    throughput of 16 connections, a fair tail, no error (a wrk timeout counts as one)."""
    out: list[Target] = []
    for server, suffix in (("waitress", ""), ("granian", ", granian")):
        row = f"{MEMORY}{suffix}"
        for c in (256, 1000):
            out += [
                (f"{server} c={c}: spine memory / its c=16 req/s",
                 _of(_ratio, _publish(f"{row} c={c}", "rps"), _publish(f"{row} c=16", "rps")),
                 ">= 0.9", lambda v, r: v >= 0.9),
                (f"{server} c={c}: spine memory p99 / (c / req/s)", _tail(f"{row} c={c}", c),
                 "<= 3", lambda v, r: v <= 3),
                (f"{server} c={c}: spine memory errors", _publish(f"{row} c={c}", "errors"),
                 "= 0", lambda v, r: v == 0),
            ]
    return out


TARGETS: list[Target] = [
    ("publish c=16: spine kafka / bare req/s",
     _of(_ratio, _publish(f"{SPINE} c=16", "rps"), _publish(f"{BARE} c=16", "rps")),
     ">= 0.67", lambda v, r: v >= 0.67),
    ("waitress c=16: spine kafka / hand-rolled req/s",
     _of(_ratio, _publish(f"{SPINE} c=16", "rps"), _publish(f"{HAND} c=16", "rps")), ">= 0.9", lambda v, r: v >= 0.9),
    ("waitress c=16: spine memory / bare req/s",
     _of(_ratio, _publish(f"{MEMORY} c=16", "rps"), _publish(f"{BARE} c=16", "rps")), ">= 0.8", lambda v, r: v >= 0.8),
    ("granian c=16: spine kafka / fastapi+faststream req/s",
     _of(_ratio, _publish(f"{SPINE}, granian c=16", "rps"), _publish(f"{FASTSTREAM} c=16", "rps")),
     "> 1.0", lambda v, r: v > 1.0),
    ("granian c=16: spine kafka / hand-rolled granian req/s",
     _of(_ratio, _publish(f"{SPINE}, granian c=16", "rps"), _publish(f"{HAND}, granian c=16", "rps")),
     "> 1.0", lambda v, r: v > 1.0),
    ("granian c=16: spine memory / bare granian req/s",
     _of(_ratio, _publish(f"{MEMORY}, granian c=16", "rps"), _publish("bare falcon+granian c=16", "rps")),
     ">= 0.5", lambda v, r: v >= 0.5),
    ("c=16: spine kafka 2 workers / 1 worker req/s (waitress)",
     _of(_ratio, _publish(f"{SPINE}, 2 workers c=16", "rps"), _publish(f"{SPINE} c=16", "rps")),
     "(2 cores)", lambda v, r: True),
    ("c=16: spine kafka 2 workers / 1 worker req/s (granian)",
     _of(_ratio, _publish(f"{SPINE}, granian, 2 workers c=16", "rps"), _publish(f"{SPINE}, granian c=16", "rps")),
     "(2 cores)", lambda v, r: True),
    ("c=1 p50: spine kafka / fastapi+faststream",
     _of(_ratio, _publish(f"{SPINE}, granian c=1", "p50_ms"), _publish(f"{FASTSTREAM} c=1", "p50_ms")),
     "(granian)", lambda v, r: True),
    ("publish c=16: hand-rolled / bare req/s",
     _of(_ratio, _publish(f"{HAND} c=16", "rps"), _publish(f"{BARE} c=16", "rps")),
     "(reference)", lambda v, r: True),
    ("publish c=1: spine kafka p50 ms", _publish(f"{SPINE} c=1", "p50_ms"), "<= 1 ms", lambda v, r: v <= 1.0),
    ("publish c=1: spine kafka / hand-rolled p50",
     _of(_ratio, _publish(f"{SPINE} c=1", "p50_ms"), _publish(f"{HAND} c=1", "p50_ms")),
     "<= 1.0", lambda v, r: v <= 1.0),
    ("granian c=1: spine kafka / hand-rolled granian p50",
     _of(_ratio, _publish(f"{SPINE}, granian c=1", "p50_ms"), _publish(f"{HAND}, granian c=1", "p50_ms")),
     "<= 1.0", lambda v, r: v <= 1.0),
    ("consumer: spine / raw msg/s", _of(_ratio, _consumer("spine"), _consumer("raw")), ">= 0.3", lambda v, r: v >= 0.3),
    ("consumer: raw loop + Spine's per-message work / raw msg/s",
     _of(_ratio, _consumer("inline"), _consumer("raw")), "(bound)", lambda v, r: True),
    ("metrics cost, publish c=16: 1 - on/off req/s",
     _of(_cost, _publish(f"{SPINE} c=16", "rps"), _publish(f"{SPINE}, metrics off c=16", "rps")),
     "< 0.10", lambda v, r: v < 0.10),
    ("metrics cost, consumer: 1 - on/off msg/s",
     _of(_cost, _consumer("spine"), _consumer("spine, metrics off")), "< 0.10", lambda v, r: v < 0.10),
    ("memory roundtrip mean us", lambda r: _get(r, "memory", "roundtrip", "mean_us"), "< 50 us", lambda v, r: v < 50),
    ("memory roundtrip: spine / faststream TestKafkaBroker mean",
     _of(_ratio, lambda r: _get(r, "memory", "roundtrip", "mean_us"),
         lambda r: _get(r, "memory", "faststream_testbroker", "mean_us")), "<= 0.5", lambda v, r: v <= 0.5),
    ("consumer: faststream batch subscriber / raw msg/s",
     _of(_ratio, _consumer("faststream batch subscriber"), _consumer("raw")), "(reference)", lambda v, r: True),
    ("consumer: spine batch handler / raw msg/s",
     _of(_ratio, _consumer("spine batch handler (max_batch=500)"), _consumer("raw")), ">= 0.5", lambda v, r: v >= 0.5),
    ("consumer: spine batch handler / faststream batch subscriber msg/s",
     _of(_ratio, _consumer("spine batch handler (max_batch=500)"), _consumer("faststream batch subscriber")),
     ">= 1.5", lambda v, r: v >= 1.5),
    ("consumer: spine msgpack / json msg/s",
     _of(_ratio, _consumer("spine, msgpack"), _consumer("spine")), "(reference)", lambda v, r: True),
    ("consumer: spine batch handler msgpack / json msg/s",
     _of(_ratio, _consumer("spine batch handler, msgpack"), _consumer("spine batch handler (max_batch=500)")),
     "(reference)", lambda v, r: True),
    ("consumer: spine / faststream batch subscriber msg/s",
     _of(_ratio, _consumer("spine"), _consumer("faststream batch subscriber")), "(reference)", lambda v, r: True),
    ("e2e over kafka p50 ms (plugin default)", _e2e_default, "<= 5 ms", lambda v, r: v <= 5),
    ("e2e over kafka p50: spine / fastapi+faststream",
     _of(_ratio, _e2e_default, lambda r: next((v["p50_ms"] for k, v in (_get(r, "e2e", "rows") or {}).items()
                                               if k.startswith("fastapi")), None)), "<= 1.0", lambda v, r: v <= 1.0),
    ("peak RSS, largest service on kafka MB",
     lambda r: max(_services_rss(r)) if _services_rss(r) else None, "< 45 MB", lambda v, r: v < 45),
    *(
        (f"{server}: peak RSS spine kafka / {bare}", _of(_ratio, _rss(f"{SPINE}{suffix}"), _rss(bare)),
         "<= 1.3", lambda v, r: v <= 1.3)
        for server, suffix, bare in (("waitress", "", BARE), ("granian", ", granian", "bare falcon+granian"))
    ),
    *(
        (f"{server}: peak RSS spine kafka / fastapi+faststream",
         _of(_ratio, _rss(f"{SPINE}{suffix}"), _rss(FASTSTREAM)), "< 1.0", lambda v, r: v < 1.0)
        for server, suffix in (("waitress", ""), ("granian", ", granian"))
    ),
    *(
        (f"granian c=16: spine {kind} / fastapi+faststream {kind} req/s",
         _of(_ratio, _broker(kind, f"spine order service, {kind}, granian c=16"),
             _broker(kind, f"fastapi+faststream, {kind} c=16")), "(reference)", lambda v, r: True)
        for kind in ("nats", "rabbitmq", "redis")
    ),
    *_many_targets(),
]


def _services_rss(r: dict[str, Any]) -> list[float]:
    """Peak RSS of the order and stock services on Kafka after serving (the memory broker
    keeps every message in the process, the reference servers are not services)."""
    values = [v for k, v in (_get(r, "publish", "peak_rss_mb") or {}).items() if k == SPINE]
    values += [v["stock_peak_rss_mb"] for k, v in (_get(r, "e2e", "rows") or {}).items() if not k.startswith("fastapi")]
    return values


def targets(r: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, value_of, target, met in TARGETS:
        value = value_of(r)
        out.append({"name": name, "value": value, "target": target,
                    "met": None if value is None or target.startswith("(") else met(value, r)})
    return out


def print_report(r: dict[str, Any]) -> None:
    m = r["machine"]
    print(f"\nSpine benchmarks {r['date']}: {m['cpu']}, {m['cores']} cores, Python {m['python']}, "
          f"load generator {r['load_generator']}, median of {r['repetitions']}, "
          f"waitress threads {_get(r, 'publish', 'threads') or '-'}")
    rows = figures(r)
    width = max((len(n) for _, n, _ in rows), default=0) + 2
    for bench, name, value in rows:
        print(f"  {bench:<13}{name:<{width}}{value}")
    print("\nRatios (same run) and targets")
    for name, error in (r.get("errors") or {}).items():
        print(f"  FAILED {name}: {error}")
    for t in r.get("targets") or targets(r):
        value = "n/a" if t["value"] is None else f"{t['value']:.2f}"
        verdict = {True: "met", False: "NOT met", None: ""}[t["met"]]
        print(f"  {t['name']:<48}{value:>10}  {t['target']:<12}{verdict}")


def markdown(r: dict[str, Any]) -> str:
    """The run as the README's tables: ``python -m bench.report bench/RESULTS.json``."""
    m = r["machine"]
    lines = [
        f"Run of {r['date'][:16].replace('T', ' ')} UTC on {m['cores']} cores ({m['cpu']}), Python {m['python']}, "
        f"load generator {r['load_generator']}, median of {r['repetitions']} repetitions.",
        "", "| | Figure | Value |", "|---|---|---|",
    ]
    lines += [f"| {bench} | {name} | {value} |" for bench, name, value in figures(r)]
    lines += ["", "| Target | Value | Wanted | |", "|---|---|---|---|"]
    for t in r.get("targets") or targets(r):
        value = "n/a" if t["value"] is None else f"{t['value']:.2f}"
        verdict = {True: "met", False: "not met", None: ""}[t["met"]]
        lines.append(f"| {t['name']} | {value} | {t['target']} | {verdict} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import json
    import sys

    print(markdown(json.loads(open(sys.argv[1]).read())))
