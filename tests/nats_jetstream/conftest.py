"""Fixtures of the NATS tests: the shared server (``SPINE_TEST_NATS_URL``, default 127.0.0.1:4222,
with JetStream), streams unique to each test and deleted after it, and private servers.

Without a server the tests are skipped with the reason; on CI (``CI=true``) they fail.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator

import nats
import pytest

from spine_core.testing import BrokerScope, Features, PrivateServer, mark_tests_in, unavailable
from spine_nats.config import DEFAULT_URL, stream_name
from spine_nats.plugin import NatsPlugin

NATS_URL = os.environ.get("SPINE_TEST_NATS_URL", DEFAULT_URL)
FEATURES = Features(key_order_across_members=False, join_timeout=10.0, delivery_timeout=20.0)
"""Where NATS's rules differ from Kafka's (see test_conformance.py), for both suites."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    mark_tests_in(__file__, pytest.mark.nats, items)


async def _streams(url: str, delete_prefixes: set[str] | None = None) -> list[str]:
    """The names of the server's streams (JetStream must answer); those under ``delete_prefixes`` deleted."""
    client = await nats.connect(url, connect_timeout=2, allow_reconnect=False)
    try:
        js = client.jetstream()
        names = [name async for name in _names(js)]
        for name in names:
            if delete_prefixes and any(name.startswith(p) for p in delete_prefixes):
                await js.delete_stream(name)
        return names
    finally:
        await client.close()


async def _names(js: nats.js.JetStreamContext) -> AsyncIterator[str]:
    for info in await js.streams_info():
        yield info.config.name or ""


@pytest.fixture(scope="session")
def nats_url() -> str:
    """The shared server's URL, once JetStream answered; skip (fail on CI) when it does not."""
    try:
        asyncio.run(_streams(NATS_URL))
    except Exception as e:
        unavailable(f"NATS with JetStream is not reachable at {NATS_URL} ({e!r}); start it with "
                    "`nats-server -js` or set SPINE_TEST_NATS_URL")
    return NATS_URL


class NatsScope(BrokerScope):
    """One test's topic prefix and group id on the shared server; every stream under the
    prefixes it used is deleted afterwards."""

    def __init__(self, url: str) -> None:
        super().__init__("nats", NatsPlugin, {"url": url})
        self.url = url

    def close(self) -> None:
        super().close()
        asyncio.run(_streams(self.url, {stream_name(p) for p in self.prefixes if p}))


@pytest.fixture
def scope(nats_url: str) -> Iterator[NatsScope]:
    """Names of this test's own on the shared server; its streams are deleted after."""
    with NatsScope(nats_url) as s:
        yield s


class PrivateNats(PrivateServer):
    """A ``nats-server -js`` of this test's own, storing its streams in a folder of its own: stopping and
    starting it again is a restart that keeps them."""

    def __init__(self) -> None:
        self.store = tempfile.mkdtemp(prefix="spine-nats-")
        super().__init__(["nats-server", "-js", "-a", "127.0.0.1", "-p", "{port}", "-sd", self.store])
        self.url = f"nats://127.0.0.1:{self.port}"


@pytest.fixture
def private_nats() -> Iterator[PrivateNats]:
    """A private server (skip, or fail on CI, if ``nats-server`` is not installed)."""
    if shutil.which("nats-server") is None:
        unavailable("nats-server is not installed; the outage tests start a private one")
    with PrivateNats() as server:
        yield server
    shutil.rmtree(server.store, ignore_errors=True)
