"""``/health/live`` and ``/health/ready``: readiness follows the broker, ops endpoints skip interceptors."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable

import pytest
from attrs import evolve

from apps import stock_app
from spine_core import OpsOptions
from spine_core.options import BrokerConfig
from spine_core.runtime import Runtime
from spine_core.serve import Service
from spine_memory import MemoryBroker, MemoryPlugin
from spine_memory.pytest_plugin import StartedApp

from . import sample


def test_live_and_ready_answer_200(spine_app: Callable[..., StartedApp]) -> None:
    client = spine_app(sample.create_app(), sample.options()).client
    assert client.simulate_get("/health/live").json == {"status": "live"}
    ready = client.simulate_get("/health/ready")
    assert ready.status_code == 200
    assert ready.json == {"status": "ready", "detail": "memory broker, 1 consumer(s)"}


def test_ready_flips_to_503_while_the_broker_is_away(
    spine_app: Callable[..., StartedApp], memory_broker: MemoryBroker
) -> None:
    """503 with a JSON reason while the broker is switched off, 200 again once it is back; live stays 200."""
    client = spine_app(sample.create_app(), sample.options()).client
    memory_broker.available = False
    down = client.simulate_get("/health/ready")
    assert (down.status_code, down.json) == (503, {"status": "not ready", "detail": "memory broker switched off"})
    assert client.simulate_get("/health/live").status_code == 200
    memory_broker.available = True
    assert client.simulate_get("/health/ready").status_code == 200


def test_not_ready_once_shutting_down(spine_app: Callable[..., StartedApp]) -> None:
    started = spine_app(sample.create_app(), sample.options())
    started.runtime.close(timeout=1.0)
    down = started.client.simulate_get("/health/ready")
    assert (down.status_code, down.json["detail"]) == (503, "shutting down")


def test_ops_endpoints_bypass_interceptors(spine_app: Callable[..., StartedApp]) -> None:
    """A global interceptor that refuses every route does not block health or metrics."""
    client = spine_app(sample.guarded_app(), sample.options()).client
    assert client.simulate_post("/api/pings/1").status_code == 401
    assert client.simulate_get("/health/ready").status_code == 200
    assert client.simulate_get("/metrics").status_code == 200


def test_paths_are_configurable(spine_app: Callable[..., StartedApp]) -> None:
    ops = OpsOptions(live_path="/livez", ready_path="/readyz", metrics_path="/prom")
    client = spine_app(sample.create_app(), evolve(sample.options(), ops=ops)).client
    assert [client.simulate_get(p).status_code for p in ("/livez", "/readyz", "/prom")] == [200, 200, 200]
    assert client.simulate_get("/health/live").status_code == 404


@pytest.mark.parametrize("server", ["waitress", "granian"])
def test_consumer_only_service_serves_health_on_its_address(memory_broker: MemoryBroker, server: str) -> None:
    """The stock service (no routes) answers the health endpoints over a real socket."""
    options = evolve(stock_app.options(), address="127.0.0.1:0")
    assert options.http is not None
    options = evolve(options, http=evolve(options.http, server=server))
    options = evolve(options, broker=evolve(options.broker, name="memory"))
    plugin = MemoryPlugin(BrokerConfig.from_options(options), memory_broker)
    service = Service(Runtime(stock_app.create_app(), options, plugin)).start()
    try:
        base = f"http://127.0.0.1:{service.port}"
        with urllib.request.urlopen(f"{base}/health/live", timeout=10) as r:
            assert r.status == 200
        with urllib.request.urlopen(f"{base}/health/ready", timeout=10) as r:
            assert json.load(r)["status"] == "ready"
        memory_broker.available = False
        try:
            urllib.request.urlopen(f"{base}/health/ready", timeout=10)
            raise AssertionError("ready while the broker is off")
        except urllib.error.HTTPError as e:
            assert e.code == 503
        finally:
            memory_broker.available = True
    finally:
        service.stop(timeout=5.0)
