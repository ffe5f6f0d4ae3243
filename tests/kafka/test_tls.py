"""Kafka over TLS: Tansu speaks plaintext, so a TLS-terminating proxy that asks for client
certificates stands in front of a private Tansu advertising the proxy's address. The seed's
scenario with ``SPINE_KAFKA_SECURITY_PROTOCOL=SSL``, and a clear not-ready with the wrong CA.
(A fresh Tansu takes about 20 s to assign its first group's partitions, plaintext or not.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from broker_checks import ServiceProcess, seed_scenario
from tls_checks import Certificates, TLSProxy

from spine_core.broker import BrokerConfig, WriteOptions
from spine_core.testing import PrivateServer, free_port, unavailable, wait_until
from spine_kafka.plugin import KafkaPlugin
from spine_kafka.tansu import TansuUnavailable, broker_binary


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    return Certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_kafka(certs: Certificates) -> Iterator[TLSProxy]:
    """The proxy (mutual TLS, on ``127.0.0.1:<proxy.port>``) in front of a Tansu of this module's own."""
    try:
        binary = broker_binary()
    except TansuUnavailable as e:
        unavailable(f"no Tansu binary for the Kafka TLS tests: {e}")
    front = free_port()
    tansu = PrivateServer([binary, "broker", "--listener-url", "tcp://127.0.0.1:{port}",
                           "--advertised-listener-url", f"tcp://127.0.0.1:{front}"], start_timeout=15.0)
    with tansu, TLSProxy(("127.0.0.1", tansu.port), certs.server_context(), port=front) as proxy:
        yield proxy


def ssl_settings(proxy: TLSProxy, certs: Certificates, ca: str | None = None) -> dict[str, str]:
    """librdkafka's TLS properties, as the plugin's settings."""
    return {"bootstrap.servers": f"127.0.0.1:{proxy.port}", "security.protocol": "SSL",
            "ssl.ca.location": ca or str(certs.ca), "ssl.certificate.location": str(certs.client_cert),
            "ssl.key.location": str(certs.client_key)}


def test_seed_scenario_over_tls(tls_kafka: TLSProxy, certs: Certificates, processes: list[ServiceProcess]) -> None:
    """POST /orders/12345 → OK and the stock service's two lines, both services on SSL with client certificates."""
    prefix = f"tls{uuid.uuid4().hex[:8]}."
    env = {"SPINE_BROKER": "kafka", "SPINE_KAFKA_TOPIC_PREFIX": prefix, "SPINE_KAFKA_GROUP_ID": prefix + "stock",
           "SPINE_ADDRESS": "127.0.0.1:0",
           **{"SPINE_KAFKA_" + k.upper().replace(".", "_"): v for k, v in ssl_settings(tls_kafka, certs).items()}}
    seed_scenario(processes, env, ready=rf"assigned .*{prefix}order\.created")


def test_the_wrong_ca_is_a_clear_not_ready(tls_kafka: TLSProxy, certs: Certificates) -> None:
    """With a CA that did not sign the proxy's certificate, readiness says the certificate was not verified."""
    plugin = KafkaPlugin(BrokerConfig(name="kafka", settings=ssl_settings(tls_kafka, certs, str(certs.wrong_ca)),
                                      write=WriteOptions(publish_timeout=2.0)))
    plugin.spine_broker_start()
    try:
        wait_until(lambda: "certificate verify failed" in plugin.spine_broker_health().detail, 10.0,
                   "readiness naming the certificate")
        assert not plugin.spine_broker_health().ready
    finally:
        plugin.spine_broker_close(1.0)
