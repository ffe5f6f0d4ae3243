"""Fallback load generator (no ``wrk``): ``python -m bench.pyload PORT CONCURRENCY SECONDS``.

One keep-alive connection per thread, each sending ``POST /orders/N`` back to back;
prints requests/s, p50/p99 latency (ms), errors and requests answered as one JSON line.
"""

from __future__ import annotations

import http.client
import itertools
import json
import sys
import threading
import time

from .common import percentile


def main() -> None:
    port, concurrency, seconds = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    ids = itertools.count(1)
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    start = time.perf_counter()
    end = start + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while (t0 := time.perf_counter()) < end:
            conn.request("POST", f"/orders/{next(ids)}", body=b"")
            response = conn.getresponse()
            response.read()
            latencies[i].append(time.perf_counter() - t0)
            errors[i] += response.status >= 300
        conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    all_ms = sorted(x * 1000 for lat in latencies for x in lat)
    print(json.dumps({
        "rps": len(all_ms) / elapsed, "p50_ms": percentile(all_ms, 50),
        "p99_ms": percentile(all_ms, 99), "errors": sum(errors), "requests": len(all_ms),
    }))


if __name__ == "__main__":
    main()
