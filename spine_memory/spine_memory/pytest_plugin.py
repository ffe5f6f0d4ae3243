"""pytest fixtures (entry point ``pytest11``): a fresh memory broker and started apps per test.

    def test_order(spine_app):
        started = spine_app(create_app(), options())
        assert started.client.simulate_post("/orders/1").text == "OK"
        started.broker.drain()
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

import pytest
from attrs import evolve, frozen
from falcon.testing import TestClient

from spine_core import Event, Options, Spine
from spine_core.broker import BrokerConfig
from spine_core.extension import Runtime
from spine_core.testing import to_message

from .broker import MemoryBroker
from .plugin import MemoryPlugin


@frozen
class StartedApp:
    """An app running on the test's memory broker, with Falcon's test client for its HTTP routes."""

    runtime: Runtime
    """The wired app: ``runtime.options``, ``runtime.health()``."""
    broker: MemoryBroker
    """The test's memory broker (the same for every app of the test)."""
    _client: TestClient | None = None

    @property
    def client(self) -> TestClient:
        """Falcon's ``TestClient`` of the app (``simulate_get``, ``simulate_post``, ...)."""
        if self._client is None:
            raise AttributeError("this app serves no HTTP: its options have http=None")
        return self._client

    def publish(self, *events: Event, correlation_id: str = "test") -> None:
        """Publish ``events`` as another service would (with this app's topic prefix);
        follow with ``broker.drain()`` to wait until they are handled."""
        prefix = self.runtime.options.broker.topic_prefix
        self.broker.publish([to_message(e, prefix, correlation_id) for e in events], timeout=5.0)


@pytest.fixture
def memory_broker() -> MemoryBroker:
    """A memory broker of this test's own: nothing leaks between tests."""
    return MemoryBroker()


class SpineAppFactory(Protocol):
    """The type of the ``spine_app`` fixture."""

    def __call__(self, app: Spine, options: Options | None = None) -> StartedApp:
        """Start ``app`` with ``options`` (default ``Options()``) on the test's memory broker."""


@pytest.fixture
def spine_app(memory_broker: MemoryBroker) -> Iterator[SpineAppFactory]:
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
        return StartedApp(runtime, memory_broker, client)

    yield start
    for runtime in reversed(started):
        runtime.close(timeout=5.0)
