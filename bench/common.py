"""Shared pieces: child processes, ports, peak memory, medians and the result table."""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float, proc: subprocess.Popen[Any] | None = None) -> None:
    """Wait until something accepts on 127.0.0.1:``port``; fail early if ``proc`` died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port} after {timeout}s")


def spawn(args: Sequence[str], env: dict[str, str] | None = None, **kwargs: Any) -> subprocess.Popen[Any]:
    """A Python child process run from the repository root (so ``apps`` and ``bench`` import)."""
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen([PYTHON, *args], cwd=ROOT, env=full_env, **kwargs)


def run_json(args: Sequence[str], env: dict[str, str] | None = None, timeout: float = 300) -> dict[str, Any]:
    """Run a Python child that prints one JSON object as its last stdout line."""
    proc = spawn(args, env, stdout=subprocess.PIPE, text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed with exit code {proc.returncode}")
    return dict(json.loads(out.strip().splitlines()[-1]))


def stop(proc: subprocess.Popen[Any], timeout: float = 15.0) -> None:
    """SIGTERM, then SIGKILL if the child does not exit in time."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set size) of a live process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_pids(pid: int) -> list[int]:
    """``pid`` and its children (worker processes), those alive now."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        children = []
    return [pid, *(int(c) for c in children)]


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and its live children (a worker restarted meanwhile would be missed)."""
    return sum(cpu_seconds(p) for p in tree_pids(pid))


def tree_peak_rss_mb(pid: int) -> float:
    """Sum of the peak RSS of ``pid`` and its live children."""
    return sum(peak_rss_mb(p) for p in tree_pids(pid))


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    index = min(len(sorted_values) - 1, max(0, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def median_row(samples: Sequence[dict[str, float]]) -> dict[str, Any]:
    """Per key, the median over repetitions, plus every repetition's value."""
    keys = samples[0].keys()
    row: dict[str, Any] = {k: median([s[k] for s in samples]) for k in keys}
    row["repetitions"] = [dict(s) for s in samples]
    return row


def machine() -> dict[str, Any]:
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), "unknown",
    )
    return {
        "cpu": model, "cores": os.cpu_count(), "python": sys.version.split()[0],
        "load_average_at_start": os.getloadavg(),
    }
