"""Fixtures of the Redis tests: the shared server (``SPINE_TEST_REDIS_URL``, default
127.0.0.1:6379), streams unique to each test and deleted after it, and private servers.

Without a server the tests are skipped with the reason; on CI (``CI=true``) they fail.
The shared server is never flushed: other test sessions use it at the same time.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from attrs import evolve

from spine_core.options import BrokerConfig
from spine_redis.config import DEFAULT_URL
from spine_redis.plugin import RedisPlugin

REDIS_URL = os.environ.get("SPINE_TEST_REDIS_URL", DEFAULT_URL)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.redis)


def _unavailable(message: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The shared server's URL, once it answered; skip (fail on CI) when it does not."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=3).ping()
    except redis.RedisError as e:
        _unavailable(f"Redis is not reachable at {REDIS_URL} ({e}); start it with "
                     "`redis-server --daemonize yes` or set SPINE_TEST_REDIS_URL")
    return REDIS_URL


class RedisScope:
    """One test's topic prefix and group id, the plugins it made, and every stream under its
    prefixes deleted afterwards."""

    def __init__(self, url: str) -> None:
        run = uuid.uuid4().hex[:8]
        self.url = url
        self.prefix = f"t{run}."
        self.group = f"g{run}"
        self.prefixes = {self.prefix}
        self.plugins: list[RedisPlugin] = []

    def env(self, **extra: str) -> dict[str, str]:
        """``SPINE_*`` variables that put an unchanged app on this scope's names."""
        return {
            "SPINE_BROKER": "redis", "SPINE_REDIS_URL": self.url, "SPINE_REDIS_TOPIC_PREFIX": self.prefix,
            "SPINE_REDIS_GROUP_ID": self.group, "SPINE_ADDRESS": "127.0.0.1:0", **extra,
        }

    def plugin(self, config: BrokerConfig) -> RedisPlugin:
        """A plugin on this scope's server (settings of ``config`` win); its prefix is cleaned up."""
        plugin = RedisPlugin(evolve(config, settings={"url": self.url, **config.settings}))
        self.prefixes.add(config.topic_prefix)
        self.plugins.append(plugin)
        return plugin

    def cleanup(self) -> None:
        for plugin in self.plugins:
            plugin.spine_broker_close(timeout=1.0)
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
    s = RedisScope(redis_url)
    yield s
    s.cleanup()


class PrivateRedis:
    """A ``redis-server`` of this test's own on a free port, without persistence: stopping and
    starting it again is a restart that lost every stream and group."""

    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, f"redis-server on port {self.port} did not start"
                time.sleep(0.05)
        client.close()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    """A private server (skip, or fail on CI, if ``redis-server`` is not installed)."""
    if shutil.which("redis-server") is None:
        _unavailable("redis-server is not installed; the outage tests start a private one")
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()
