"""schemathesis, a fuzzer nobody here wrote, against the example apps and the every-kind app, driven by the
documents they serve: every check, negative data included, on waitress and granian, memory broker, loopback."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from attrs import evolve

from apps import http_example, order_app
from spine_core import BrokerOptions, HTTPOptions, Options, Spine
from spine_core.options import BrokerConfig
from spine_memory import MemoryBroker
from spine_memory.plugin import MemoryPlugin

from . import kinds_app

CONFIG = Path(__file__).parent / "schemathesis.toml"
APPS: dict[str, tuple[Callable[[], Spine], Options]] = {
    "order_app": (order_app.create_app, Options()),
    "http_example": (http_example.create_app, http_example.options()),
    "kinds_app": (kinds_app.create_app, kinds_app.options()),
}
EXAMPLES = 25
"""Cases per operation and phase: each run stays within seconds (measured: 2 to 10 s)."""


@pytest.mark.timeout(120)
@pytest.mark.parametrize("server", ["waitress", "granian"])
@pytest.mark.parametrize("name", sorted(APPS))
def test_schemathesis_finds_nothing(name: str, server: str, tmp_path: Path) -> None:
    """Every generated request, valid or not, gets an answer its operation documents, of the documented
    shape; invalid data is refused with a 4xx; nothing is a 500."""
    create, options = APPS[name]
    options = evolve(options, address="127.0.0.1:0", broker=BrokerOptions(name="memory"),
                     http=evolve(options.http or HTTPOptions(), server=server))
    service = create().start(options, broker=MemoryPlugin(BrokerConfig.from_options(options), MemoryBroker()))
    try:
        run = subprocess.run(
            [str(Path(sys.executable).parent / "schemathesis"), "--config-file", str(CONFIG), "--no-color", "run",
             f"http://127.0.0.1:{service.port}/openapi.json", "--mode", "all",  # every check runs by default
             "-n", str(EXAMPLES), "--seed", "7", "--generation-database", "none", "--max-redirects", "0",
             "--request-timeout", "5", "-w", "1", "-H", f"Authorization: Bearer {kinds_app.TOKEN}",
             "--report", "junit", "--report-dir", str(tmp_path)],
            capture_output=True, text=True, timeout=100, cwd=tmp_path,
        )
    finally:
        service.stop(timeout=5.0)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout
