"""The load generator, always a separate process: ``wrk`` if installed, else ``bench.pyload``."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from .common import run_json

POST_SCRIPT = Path(__file__).with_name("post.lua")
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "bench.pyload"


def post_load(port: int, concurrency: int, seconds: float) -> dict[str, float]:
    """``POST /orders/N`` at ``concurrency`` for ``seconds``: requests/s, p50/p99 ms, errors and
    the number of requests answered."""
    if shutil.which("wrk"):
        return _wrk(port, concurrency, seconds)
    return {k: float(v) for k, v in run_json(
        ["-m", "bench.pyload", str(port), str(concurrency), str(seconds)], timeout=seconds + 60,
    ).items()}


def _wrk(port: int, concurrency: int, seconds: float) -> dict[str, float]:
    threads = min(2, concurrency)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency", "--timeout", "10s",
         "-s", str(POST_SCRIPT), f"http://127.0.0.1:{port}"],
        check=True, capture_output=True, text=True, timeout=seconds + 60,
    ).stdout
    rps = float(_search(r"Requests/sec:\s+([\d.]+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sockets.groups())) if sockets else 0)
    return {"rps": rps, "p50_ms": _latency(out, "50%"), "p99_ms": _latency(out, "99%"), "errors": float(errors),
            "requests": float(_search(r"(\d+) requests in", out))}


def _latency(out: str, label: str) -> float:
    found = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    assert found is not None, f"no {label} latency in wrk's output"
    value, unit = found.groups()
    return float(value) * _UNITS[unit]


def _search(pattern: str, out: str) -> str:
    match = re.search(pattern, out)
    if match is None:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    return match.group(1)
