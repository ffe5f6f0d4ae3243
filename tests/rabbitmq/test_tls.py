"""RabbitMQ over TLS (``amqps://``) through a TLS-terminating proxy in front of the machine's node
that asks for client certificates: the seed's scenario, and clear refusals with the wrong CA."""

from __future__ import annotations

from collections.abc import Iterator

import pika
import pytest
from broker_checks import ServiceProcess, seed_scenario
from tls_checks import Certificates, TLSProxy

from spine_core import BootError
from spine_core.broker import BrokerConfig, WriteOptions
from spine_rabbitmq.plugin import RabbitMQPlugin

from .conftest import RabbitScope


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_proxy(rabbitmq_url: str, certs: Certificates) -> Iterator[TLSProxy]:
    """TLS with client certificates on a port of its own, plaintext AMQP to the node."""
    params = pika.URLParameters(rabbitmq_url)
    with TLSProxy((params.host, params.port), certs.server_context()) as proxy:
        yield proxy


def tls_settings(proxy: TLSProxy, certs: Certificates, ca: str | None = None) -> dict[str, str]:
    return {"url": f"amqps://guest:guest@localhost:{proxy.port}/", "ssl.ca": ca or str(certs.ca),
            "ssl.cert": str(certs.client_cert), "ssl.key": str(certs.client_key)}


def test_seed_scenario_over_tls(
    rabbitmq_url: str, tls_proxy: TLSProxy, certs: Certificates, processes: list[ServiceProcess]
) -> None:
    """POST /orders/12345 → OK and the stock service's two lines, both services on amqps:// with mutual TLS."""
    with RabbitScope(rabbitmq_url) as scope:  # its own URL stays plain: it deletes the test's queues
        scope.settings.update(tls_settings(tls_proxy, certs))
        scope.topic_queues("order.created", scope.group)
        seed_scenario(processes, scope.env(), ready="consuming")


def test_the_wrong_ca_is_a_clear_refusal(tls_proxy: TLSProxy, certs: Certificates) -> None:
    """A CA that did not sign the proxy's certificate: the start fails saying the certificate was not verified."""
    settings = tls_settings(tls_proxy, certs, ca=str(certs.wrong_ca))
    plugin = RabbitMQPlugin(BrokerConfig(name="rabbitmq", settings=settings, write=WriteOptions()))
    with pytest.raises(BootError, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed") as refused:
        plugin.spine_broker_start()
    assert "amqps://***@localhost" in str(refused.value)


def test_ssl_settings_need_amqps() -> None:
    """A CA given with a plain amqp:// URL is refused at boot rather than silently unused."""
    with pytest.raises(BootError, match="need an amqps:// url"):
        RabbitMQPlugin(BrokerConfig(name="rabbitmq", settings={"url": "amqp://h/", "ssl.ca": "/ca.pem"}))
