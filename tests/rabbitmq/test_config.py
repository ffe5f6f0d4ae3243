"""Settings of the rabbitmq plugin: defaults, ``SPINE_RABBITMQ_*`` mapping, clear errors."""

from __future__ import annotations

import pytest

from spine_core import BrokerOptions, Options
from spine_core.errors import BootError
from spine_core.options import BrokerConfig
from spine_rabbitmq.config import DEFAULT_URL, RabbitMQSettings, queue_name


def test_defaults() -> None:
    """Without settings: local server as guest, exchange ``spine``, quorum queues."""
    settings = RabbitMQSettings.from_settings({})
    assert settings == RabbitMQSettings(url=DEFAULT_URL, exchange="spine", prefetch=100,
                                        queue_type="quorum", delivery_limit=20, workers=8)


def test_environment_variables_reach_the_settings() -> None:
    """SPINE_RABBITMQ_<KEY> becomes the setting ``<key>`` (lowercased, ``_`` → ``.``)."""
    env = {
        "SPINE_BROKER": "rabbitmq", "SPINE_RABBITMQ_URL": "amqp://u:p@mq:5673/v",
        "SPINE_RABBITMQ_EXCHANGE": "orders", "SPINE_RABBITMQ_PREFETCH": "5",
        "SPINE_RABBITMQ_QUEUE_TYPE": "classic", "SPINE_RABBITMQ_DELIVERY_LIMIT": "3",
        "SPINE_RABBITMQ_WORKERS": "2", "SPINE_RABBITMQ_TOPIC_PREFIX": "prod.",
    }
    options = Options(broker=BrokerOptions(name="kafka", settings={"kafka": {"bootstrap.servers": "k:9092"}}))
    config = BrokerConfig.from_options(options.with_env(env))
    assert config.name == "rabbitmq" and config.topic_prefix == "prod."
    settings = RabbitMQSettings.from_settings(config.settings)
    assert settings == RabbitMQSettings(url="amqp://u:p@mq:5673/v", exchange="orders", prefetch=5,
                                        queue_type="classic", delivery_limit=3, workers=2)
    params = settings.parameters()
    assert (params.host, params.port, params.virtual_host) == ("mq", 5673, "v")


@pytest.mark.parametrize("settings, message", [
    ({"prefetch": "0"}, "rabbitmq prefetch must be an integer of at least 1, got '0'"),
    ({"delivery.limit": "many"}, "rabbitmq delivery.limit must be an integer of at least 1, got 'many'"),
    ({"workers": "-1"}, "rabbitmq workers must be an integer of at least 1, got '-1'"),
    ({"queue.type": "stream"}, "rabbitmq queue.type must be one of ['quorum', 'classic'], got 'stream'"),
    ({"unrouted": "maybe"}, "rabbitmq unrouted must be true or false"),
    ({"exchange": ""}, "exchange must not be empty"),
    ({"prefech": "5"}, "unknown rabbitmq setting(s) ['prefech']"),
    ({"url": "amqp://guest:guest@127.0.0.1:notaport/"}, "url 'amqp://***@127.0.0.1:notaport/' is invalid"),
])
def test_bad_settings_are_boot_errors(settings: dict[str, str], message: str) -> None:
    """A bad setting stops the app at boot with a message naming it."""
    with pytest.raises(BootError) as e:
        RabbitMQSettings.from_settings(settings)
    assert message in str(e.value)


def test_queue_arguments() -> None:
    """A quorum queue gets a delivery limit; both types dead-letter to ``<topic>.dlq`` on the exchange."""
    quorum = RabbitMQSettings(exchange="x", delivery_limit=7).queue_arguments("t.dlq")
    assert quorum == {"x-queue-type": "quorum", "x-delivery-limit": 7,
                      "x-dead-letter-exchange": "x", "x-dead-letter-routing-key": "t.dlq"}
    classic = RabbitMQSettings(queue_type="classic").queue_arguments("t.dlq")
    assert "x-delivery-limit" not in classic and classic["x-queue-type"] == "classic"


def test_queue_name() -> None:
    """A group's queue is named ``<group>:<prefixed topic>``."""
    assert queue_name("stock-service", "prod.order.created") == "stock-service:prod.order.created"
