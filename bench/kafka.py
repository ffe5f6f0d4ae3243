"""Kafka helpers of the suite; the broker itself is ``spine_kafka.tansu.Tansu`` (in-memory Tansu)."""

from __future__ import annotations


def create_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    """Create ``topic`` with as many partitions as the kafka plugin gives its topics by default,
    unless an earlier section of the run created it already."""
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, partitions, -1)]).values():
        try:
            future.result(timeout=30)
        except KafkaException as e:
            if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
