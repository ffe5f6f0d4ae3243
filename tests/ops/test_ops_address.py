"""``OpsOptions.address`` / ``SPINE_OPS_ADDRESS``: health and metrics on their own address, on both
servers and with worker processes, whose metrics every scrape sums."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest
from attrs import evolve

from apps import stock_app
from spine_core import OpsOptions, Options
from spine_core.options import BrokerConfig
from spine_core.runtime import Runtime
from spine_core.serve import Service
from spine_core.testing import wait_until
from spine_memory import MemoryBroker, MemoryPlugin
from core.support import SERVERS
from core.test_serve import request, service_process, workers_of

from . import sample

ASYNCAPI = "/asyncapi.json"


def _service(app_options: Options, broker: MemoryBroker, app: object = None) -> Service:
    plugin = MemoryPlugin(BrokerConfig.from_options(app_options), broker)
    return Service(Runtime(app or sample.create_app(), app_options, plugin)).start()  # type: ignore[arg-type]


def test_the_environment_sets_the_ops_address() -> None:
    """SPINE_OPS_ADDRESS sets OpsOptions.address; unset, the code's value (None: next to the routes)."""
    assert Options().ops.address is None
    assert Options().with_env({"SPINE_OPS_ADDRESS": "127.0.0.1:9090"}).ops.address == "127.0.0.1:9090"


@pytest.mark.parametrize("server", SERVERS)
def test_ops_endpoints_move_to_their_address(memory_broker: MemoryBroker, server: str) -> None:
    """With an ops address, health and metrics answer there and 404 on the API's; the AsyncAPI
    document stays on the API's; requests to the API are counted in the metrics served there."""
    options = sample.options()
    assert options.http is not None
    options = evolve(options, address="127.0.0.1:0", http=evolve(options.http, server=server),
                     ops=OpsOptions(address="127.0.0.1:0", asyncapi_path=ASYNCAPI))
    service = _service(options, memory_broker)
    try:
        api, ops = service.port, service.ops_port
        assert api is not None and ops is not None and api != ops
        for path in ("/health/live", "/health/ready", "/metrics"):
            assert request(ops, "GET", path)[0] == 200, path
            assert request(api, "GET", path)[0] == 404, path
        assert request(api, "GET", ASYNCAPI)[0] == 200
        assert request(ops, "GET", ASYNCAPI)[0] == 404
        assert request(api, "POST", "/api/pings/1")[0] == 200
        metrics = request(ops, "GET", "/metrics")[1].decode()
        assert 'spine_http_requests_total{method="POST",route="/api/pings/:n",status="200"} 1.0' in metrics
        assert "/health" not in metrics and "/metrics" not in metrics.split("# HELP spine_http_requests")[1]
    finally:
        service.stop(2.0)


def test_a_service_without_http_serves_health_on_the_ops_address(memory_broker: MemoryBroker) -> None:
    """The stock service with no HTTP options at all still answers readiness on its ops address."""
    options = evolve(stock_app.options(), http=None, ops=OpsOptions(address="127.0.0.1:0"))
    options = evolve(options, broker=evolve(options.broker, name="memory"))
    service = _service(options, memory_broker, stock_app.create_app())
    try:
        assert service.port is None and service.ops_port is not None
        status, body = request(service.ops_port, "GET", "/health/ready")
        assert status == 200 and b'"ready"' in body
    finally:
        service.stop(2.0)


def test_a_scrape_counts_every_workers_requests(tmp_path: Path) -> None:
    """SPINE_WORKERS=2 with SPINE_OPS_ADDRESS: each of six scrapes, whichever worker answers it,
    counts the requests both workers answered."""
    proc, _, log = service_process(tmp_path, SPINE_WORKERS="2", SPINE_OPS_ADDRESS="127.0.0.1:0")
    try:
        port = int(log.wait_for("2 workers listening on http://127.0.0.1:").rsplit(":", 1)[1])
        wait_until(lambda: sum("operations endpoints on" in x for x in log.lines) == 2, 10.0, "both workers serve")
        ops = int(log.wait_for("operations endpoints on").rsplit(":", 1)[1])
        assert request(port, "GET", "/metrics")[0] == 404
        workers, answered, sent = workers_of(proc.pid), set(), 0

        def ask_pid() -> bool:
            nonlocal sent
            answered.add(int(request(port, "GET", "/pid")[1]))
            sent += 1
            return sent >= 100 and answered == workers

        wait_until(ask_pid, 20.0, "100 requests, answered by both workers")
        counts = []
        for _ in range(6):
            text = request(ops, "GET", "/metrics")[1].decode()
            found = re.search(r'spine_http_requests_total\{method="GET",route="/pid",status="200"\} (\S+)', text)
            assert found, text
            counts.append(float(found[1]))
        assert counts == [float(sent)] * 6
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10.0) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
