"""The kafka plugin's settings: environment → librdkafka properties per client (no broker needed)."""

from __future__ import annotations

import pytest

from spine_core import BootError, BrokerOptions, Options, ReadOptions, WriteOptions
from spine_core.options import BrokerConfig
from spine_kafka import KafkaPlugin, KafkaSettings
from spine_kafka.publisher import Publisher


def settings_from(env: dict[str, str]) -> KafkaSettings:
    options = Options(broker=BrokerOptions(name="kafka", read=ReadOptions(group_id="code"), write=WriteOptions()))
    return KafkaPlugin(BrokerConfig.from_options(options.with_env({"SPINE_BROKER": "kafka", **env}))).settings


def test_environment_routes_properties_to_clients() -> None:
    """Unprefixed properties go to every client, ``producer.``/``consumer.`` ones to that client only."""
    s = settings_from({
        "SPINE_KAFKA_BOOTSTRAP_SERVERS": "b1:9092,b2:9092",
        "SPINE_KAFKA_SASL_MECHANISM": "PLAIN",
        "SPINE_KAFKA_PRODUCER_COMPRESSION_TYPE": "zstd",
        "SPINE_KAFKA_CONSUMER_SESSION_TIMEOUT_MS": "6000",
        "SPINE_KAFKA_CONSUMER_FETCH_WAIT_MAX_MS": "20",
        "SPINE_KAFKA_PARTITIONS": "12",
    })
    producer, consumer, admin = s.producer_config(2.5), s.consumer_config("stock"), s.admin_config()
    for client in (producer, consumer, admin):
        assert client["bootstrap.servers"] == "b1:9092,b2:9092"
        assert client["sasl.mechanism"] == "PLAIN"
    assert producer["compression.type"] == "zstd" and "compression.type" not in consumer
    assert consumer["session.timeout.ms"] == "6000" and "session.timeout.ms" not in producer
    assert consumer["fetch.wait.max.ms"] == "20"
    assert s.partitions == 12 and "partitions" not in producer and "partitions" not in admin


def test_spine_defaults() -> None:
    """Idempotent, acks=all, no linger, one request in flight (what comes meanwhile fills the next),
    expiry at the publish timeout; manual commits from the start."""
    s = settings_from({})
    producer, consumer = s.producer_config(2.5), s.consumer_config("stock")
    assert (producer["enable.idempotence"], producer["acks"], producer["linger.ms"]) == (True, "all", 0)
    assert producer["max.in.flight.requests.per.connection"] == 1
    assert producer["message.timeout.ms"] == 2500
    assert (consumer["enable.auto.commit"], consumer["auto.offset.reset"]) == (False, "earliest")
    assert consumer["group.id"] == "stock" and consumer["fetch.wait.max.ms"] == 10
    assert (s.partitions, s.replication_factor, s.create_topics, s.workers) == (3, -1, True, 8)


@pytest.mark.parametrize("env, error", [
    ({"SPINE_KAFKA_CONSUMER_ENABLE_AUTO_COMMIT": "true"}, "set by Spine"),
    ({"SPINE_KAFKA_PARTITIONS": "three"}, "kafka partitions must be an integer of at least 1, got 'three'"),
    ({"SPINE_KAFKA_WORKERS": "0"}, "kafka workers must be an integer of at least 1, got '0'"),
    ({"SPINE_KAFKA_CREATE_TOPICS": "maybe"}, "kafka create.topics must be true or false"),
])
def test_bad_settings_are_boot_errors(env: dict[str, str], error: str) -> None:
    """Settings the plugin cannot honour stop the app at boot with a clear message."""
    with pytest.raises(BootError) as e:
        settings_from(env)
    assert error in str(e.value)


def test_unknown_librdkafka_property_is_a_boot_error() -> None:
    """librdkafka's own refusal of a property is reported as a BootError at start."""
    plugin = KafkaPlugin(BrokerConfig(name="kafka", settings={"producer.no.such.property": "1"}))
    with pytest.raises(BootError, match="no.such.property"):
        plugin.spine_broker_start()


def test_old_names_still_work_and_warn() -> None:
    """``KafkaSettings.parse`` and ``KafkaPublisher`` keep working for one release, with a DeprecationWarning."""
    with pytest.warns(DeprecationWarning, match="from_settings"):
        parsed = KafkaSettings.parse({"partitions": "5"})
    assert parsed == KafkaSettings.from_settings({"partitions": "5"}) and parsed.partitions == 5
    with pytest.warns(DeprecationWarning, match="is now Publisher"):
        from spine_kafka.publisher import KafkaPublisher
    assert KafkaPublisher is Publisher
