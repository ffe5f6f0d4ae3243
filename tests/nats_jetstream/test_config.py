"""The plugin's settings: defaults, ``SPINE_NATS_*`` variables, bad values refused at boot, secrets never shown."""

from __future__ import annotations

import pytest

from spine_core import Options
from spine_core.errors import BootError
from spine_core.options import BrokerConfig
from spine_core.plugins import installed
from spine_nats.config import DEFAULT_URL, NatsSettings, durable_name, stream_name


def test_defaults() -> None:
    """Streams on file storage, made when missing; a 30 s ack wait; the engine's usual limits."""
    settings = NatsSettings.from_settings({})
    assert settings.url == DEFAULT_URL == "nats://127.0.0.1:4222"
    assert (settings.create_streams, settings.storage, settings.max_age, settings.max_bytes) == (True, "file", 0, -1)
    assert (settings.ack_wait, settings.batch, settings.workers, settings.max_pending) == (30.0, 100, 8, 1000)


def test_environment_variables_map_to_settings() -> None:
    """Every ``SPINE_NATS_<SETTING>`` lands in its field."""
    env = {"SPINE_BROKER": "nats", "SPINE_NATS_URL": "nats://a:4222,nats://b:4223", "SPINE_NATS_STORAGE": "memory",
           "SPINE_NATS_CREATE_STREAMS": "false", "SPINE_NATS_MAX_AGE": "86400", "SPINE_NATS_MAX_BYTES": "1000000",
           "SPINE_NATS_REPLICAS": "3", "SPINE_NATS_ACK_WAIT": "2.5", "SPINE_NATS_BATCH": "50",
           "SPINE_NATS_WORKERS": "4", "SPINE_NATS_MAX_PENDING": "200", "SPINE_NATS_USER": "spine",
           "SPINE_NATS_PASSWORD": "s3cret"}
    config = BrokerConfig.from_options(Options().with_env(env))
    settings = NatsSettings.from_settings(config.settings)
    assert config.name == "nats"
    assert settings == NatsSettings(url="nats://a:4222,nats://b:4223", storage="memory", create_streams=False,
                                    max_age=86400.0, max_bytes=1000000, replicas=3, ack_wait=2.5, batch=50,
                                    workers=4, max_pending=200, user="spine", password="s3cret")
    assert settings.address == "a:4222,b:4223"


@pytest.mark.parametrize(("settings", "message"), [
    ({"subjects": "x"}, "unknown nats setting(s) ['subjects']"),
    ({"storage": "disk"}, "nats storage must be one of ['file', 'memory'], got 'disk'"),
    ({"ack.wait": "0"}, "nats ack.wait must be a positive number of seconds, got '0'"),
    ({"max.pending": "0"}, "nats max.pending must be an integer of at least 1, got '0'"),
    ({"url": "http://127.0.0.1:4222"}, "nats url '127.0.0.1:4222' is not nats://HOST:PORT"),
    ({"tls.cert": "client.pem"}, "nats tls.cert and tls.key go together"),
])
def test_bad_settings_are_boot_errors(settings: dict[str, str], message: str) -> None:
    """A bad value is refused at boot, naming the setting and the value."""
    with pytest.raises(BootError) as error:
        NatsSettings.from_settings(settings)
    assert message in str(error.value)


def test_secrets_are_never_in_the_repr_nor_the_address() -> None:
    """A password, a token and the URL's credentials appear neither in the repr (tracebacks) nor the address."""
    settings = NatsSettings.from_settings({"url": "nats://spine:urlpass@nats.internal:4333", "user": "u",
                                           "password": "pw-secret", "token": "tok-secret"})
    shown = repr(settings) + settings.address
    assert "nats.internal:4333" in shown
    for secret in ("urlpass", "pw-secret", "tok-secret"):
        assert secret not in shown
    assert settings.connect_options() == {"user": "u", "password": "pw-secret", "token": "tok-secret"}


def test_names_of_streams_and_consumers_have_no_dots() -> None:
    """JetStream names cannot hold dots: a topic's stream and its dead letters' stream are two names."""
    assert stream_name("shop.order.created") == "shop_order_created"
    assert stream_name("shop.order.created.dlq") == "shop_order_created_dlq"
    assert durable_name("t1.stock-service") == "t1_stock-service"


def test_installed_as_the_nats_plugin() -> None:
    """The ``spine`` entry point ``nats`` names the plugin class."""
    assert installed()["nats"].value == "spine_nats.plugin:NatsPlugin"
