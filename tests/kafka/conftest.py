"""Fixtures of the Kafka tests: settings for the session's broker; every test is marked ``kafka``."""

from __future__ import annotations

import os

import pytest

from spine_kafka.tansu import TANSU_CONSUMER_SETTINGS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.kafka)


@pytest.fixture
def kafka_settings(kafka_bootstrap_servers: str) -> dict[str, str]:
    """The kafka plugin's settings for the test broker (fast group joins on Tansu)."""
    return {"bootstrap.servers": kafka_bootstrap_servers, **TANSU_CONSUMER_SETTINGS}
