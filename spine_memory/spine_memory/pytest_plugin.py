"""pytest fixtures (entry point ``pytest11``): a fresh memory broker and started apps per test.

    def test_order(spine_app):
        started = spine_app(create_app(), options())
        assert started.client.simulate_post("/orders/1").text == "OK"
        started.broker.drain()
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from attrs import evolve, frozen
from falcon.testing import TestClient

from spine_core import Event, Options, Spine
from spine_core.broker import BrokerConfig, Runtime, to_message

from .broker import MemoryBroker
from .plugin import MemoryPlugin


@frozen
class StartedApp:
    """An app running on the test's memory broker; ``client`` is None without HTTP options."""

    runtime: Runtime
    client: TestClient | None
    broker: MemoryBroker

    def publish(self, *events: Event, correlation_id: str = "test") -> None:
        """Publish ``events`` as another service would (with this app's topic prefix);
        follow with ``broker.drain()`` to wait until they are handled."""
        prefix = self.runtime.options.broker.topic_prefix
        self.broker.publish([to_message(e, prefix, correlation_id) for e in events], timeout=5.0)


@pytest.fixture
def memory_broker() -> MemoryBroker:
    """A memory broker of this test's own: nothing leaks between tests."""
    return MemoryBroker()


@pytest.fixture
def spine_app(memory_broker: MemoryBroker) -> Iterator[Callable[..., StartedApp]]:
    """Start apps on ``memory_broker``: ``spine_app(app, options=None) -> StartedApp``.

    The ``SPINE_*`` environment is not applied; apps are closed after the test.
    """
    started: list[Runtime] = []

    def start(app: Spine, options: Options | None = None) -> StartedApp:
        options = options or Options()
        options = evolve(options, broker=evolve(options.broker, name="memory"))
        plugin = MemoryPlugin(BrokerConfig.from_options(options), memory_broker)
        runtime = Runtime(app, options, plugin)
        runtime.start()
        started.append(runtime)
        client = TestClient(runtime.wsgi) if runtime.wsgi is not None else None
        return StartedApp(runtime, client, memory_broker)

    yield start
    for runtime in reversed(started):
        runtime.close(timeout=5.0)
