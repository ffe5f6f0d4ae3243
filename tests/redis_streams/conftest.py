"""Fixtures of the Redis tests: the shared server (``SPINE_TEST_REDIS_URL``, default
127.0.0.1:6379), streams unique to each test and deleted after it, and private servers.

Without a server the tests are skipped with the reason; on CI (``CI=true``) they fail.
The shared server is never flushed: other test sessions use it at the same time.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
import redis

from spine_core.testing import BrokerScope, PrivateServer, mark_tests_in, unavailable
from spine_core.testing import Features
from spine_redis.config import DEFAULT_URL
from spine_redis.plugin import RedisPlugin

REDIS_URL = os.environ.get("SPINE_TEST_REDIS_URL", DEFAULT_URL)
FEATURES = Features(key_order_across_members=False, join_timeout=10.0, delivery_timeout=20.0)
"""Where Redis's rules differ from Kafka's (see test_conformance.py), for both suites."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tests_in(__file__, pytest.mark.redis, items)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The shared server's URL, once it answered; skip (fail on CI) when it does not."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except redis.RedisError as e:
        unavailable(f"Redis is not reachable at {REDIS_URL} ({e}); start it with "
                    "`redis-server --daemonize yes` or set SPINE_TEST_REDIS_URL")
    return REDIS_URL


class RedisScope(BrokerScope):
    """One test's topic prefix and group id on the shared server; every stream under the
    prefixes it used is deleted afterwards."""

    def __init__(self, url: str) -> None:
        super().__init__("redis", RedisPlugin, {"url": url})
        self.url = url

    def close(self) -> None:
        super().close()
        client = redis.Redis.from_url(self.url)
        try:
            for prefix in filter(None, self.prefixes):
                keys = list(client.scan_iter(match=f"*{prefix}*", count=1000))
                if keys:
                    client.delete(*keys)
        finally:
            client.close()


@pytest.fixture
def scope(redis_url: str) -> Iterator[RedisScope]:
    """Names of this test's own on the shared server; its streams are deleted after."""
    with RedisScope(redis_url) as s:
        yield s


class PrivateRedis(PrivateServer):
    """A ``redis-server`` of this test's own, without persistence: stopping and starting it again
    is a restart that lost every stream and group."""

    def __init__(self) -> None:
        super().__init__(["redis-server", "--port", "{port}", "--bind", "127.0.0.1", "--save", "",
                          "--appendonly", "no"])
        self.url = f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A private server (skip, or fail on CI, if ``redis-server`` is not installed)."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed; the outage tests start a private one")
    with PrivateRedis() as server:
        yield server
