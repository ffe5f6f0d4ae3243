"""Fixtures of the Kafka tests: settings for the session's broker; every test is marked ``kafka``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from attrs import evolve, frozen
from falcon.testing import TestClient

from spine_core import Options, Spine
from spine_core.options import BrokerConfig
from spine_core.runtime import Runtime
from spine_core.testing import mark_tests_in
from spine_kafka import KafkaPlugin
from spine_kafka.tansu import TANSU_CONSUMER_SETTINGS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tests_in(__file__, pytest.mark.kafka, items)


@pytest.fixture
def kafka_settings(kafka_bootstrap_servers: str) -> dict[str, str]:
    """The kafka plugin's settings for the test broker (fast group joins on Tansu)."""
    return {"bootstrap.servers": kafka_bootstrap_servers, **TANSU_CONSUMER_SETTINGS}


@pytest.fixture
def kafka_app(kafka_settings: dict[str, str]) -> Iterator[Callable[..., Started]]:
    """Start apps in this process on the test broker: ``kafka_app(app, options) -> Started``.

    The options' kafka settings are replaced by the test broker's (plus ``settings``);
    the ``SPINE_*`` environment is not applied; apps are closed after the test.
    """
    started: list[Runtime] = []

    def start(app: Spine, options: Options, **settings: str) -> Started:
        broker = evolve(options.broker, name="kafka", settings={"kafka": {**kafka_settings, **settings}})
        options = evolve(options, broker=broker)
        runtime = Runtime(app, options, KafkaPlugin(BrokerConfig.from_options(options)))
        runtime.start()
        started.append(runtime)
        return Started(runtime, TestClient(runtime.wsgi) if runtime.wsgi is not None else None)

    yield start
    for runtime in reversed(started):
        runtime.close(timeout=5.0)


@frozen
class Started:
    runtime: Runtime
    client: TestClient | None

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Wait until the app's consumers joined their group."""
        deadline = time.monotonic() + timeout
        while not (health := self.runtime.health()).ready:
            assert time.monotonic() < deadline, f"not ready after {timeout}s: {health.detail}"
            time.sleep(0.05)
