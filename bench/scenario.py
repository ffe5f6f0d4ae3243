"""Wall time of the in-memory end-to-end scenario test (benchmark 3).

Run as a pytest plugin (``-p bench.scenario``) it prints the exact duration of the
test's setup, call and teardown, which pytest's ``--durations`` rounds to 10 ms.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from typing import Any

from .common import PYTHON, ROOT

TEST = "tests/test_scenario.py::test_order_reaches_stock_in_one_process"
_total = 0.0


def pytest_runtest_logreport(report: Any) -> None:
    global _total
    _total += report.duration


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(f"bench-test-seconds {_total!r}")


def run() -> dict[str, float]:
    """The test's own time (setup + call + teardown) and the whole pytest command's."""
    t0 = time.perf_counter()
    out = subprocess.run(
        [PYTHON, "-m", "pytest", TEST, "-q", "-p", "no:cacheprovider", "-p", "bench.scenario"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env={**_clean_env(), "PYTHONPATH": str(ROOT)},
    )
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"{TEST} failed:\n{out.stdout}{out.stderr}")
    seconds = float(re.search(r"^bench-test-seconds (\S+)$", out.stdout, re.M).group(1))  # type: ignore[union-attr]
    return {"test_ms": seconds * 1000, "pytest_command_s": wall}


def _clean_env() -> dict[str, str]:
    """The test's own options, not the caller's ``SPINE_*`` overrides."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
