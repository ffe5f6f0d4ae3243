"""Redis over TLS (``rediss://``) on a private ``redis-server --tls-port`` that asks for client
certificates: the seed's scenario, and clear refusals with the wrong CA or without a certificate."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from broker_checks import ServiceProcess, seed_scenario
from tls_checks import Certificates

from spine_core.broker import BrokerConfig
from spine_core.testing import PrivateServer, unavailable
from spine_redis.plugin import RedisPlugin

from .conftest import RedisScope


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """This module's CA, server and client certificates."""
    return Certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_redis(certs: Certificates) -> Iterator[PrivateServer]:
    """A private redis-server listening for TLS only, with mutual TLS."""
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed; the TLS tests start a private one")
    command = ["redis-server", "--port", "0", "--tls-port", "{port}", "--bind", "127.0.0.1",
               "--tls-cert-file", str(certs.server_cert), "--tls-key-file", str(certs.server_key),
               "--tls-ca-cert-file", str(certs.ca), "--tls-auth-clients", "yes", "--save", "", "--appendonly", "no"]
    with PrivateServer(command) as server:
        yield server


def tls_url(port: int, ca: Path, cert: Path | None = None, key: Path | None = None) -> str:
    """A ``rediss://`` URL trusting ``ca``, with a client certificate if given."""
    url = f"rediss://127.0.0.1:{port}/0?ssl_ca_certs={ca}"
    return url + (f"&ssl_certfile={cert}&ssl_keyfile={key}" if cert and key else "")


def test_seed_scenario_over_tls(
    tls_redis: PrivateServer, certs: Certificates, processes: list[ServiceProcess]
) -> None:
    """POST /orders/12345 → OK and the stock service's two lines, both services on rediss:// with mutual TLS."""
    with RedisScope(tls_url(tls_redis.port, certs.ca, certs.client_cert, certs.client_key)) as scope:
        seed_scenario(processes, scope.env(), ready="consuming")


@pytest.mark.parametrize("wrong", ["the wrong CA", "no client certificate"])
def test_a_refused_handshake_is_a_clear_not_ready(tls_redis: PrivateServer, certs: Certificates, wrong: str) -> None:
    """With a CA that did not sign the server's certificate, or without a client certificate, the
    connection is refused and readiness says why."""
    if wrong == "the wrong CA":
        url = tls_url(tls_redis.port, certs.wrong_ca, certs.client_cert, certs.client_key)
        reason = "certificate verify failed"
    else:
        url = tls_url(tls_redis.port, certs.ca)
        reason = "Redis unreachable at 127.0.0.1"
    plugin = RedisPlugin(BrokerConfig(name="redis", settings={"url": url}))
    health = plugin.spine_broker_health()
    assert not health.ready
    assert reason in health.detail, health.detail
