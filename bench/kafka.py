"""Kafka helpers of the suite; the broker itself is ``spine_kafka.tansu.Tansu`` (in-memory Tansu)."""

from __future__ import annotations


def create_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    """Create ``topic`` with as many partitions as the kafka plugin gives its topics by default."""
    from confluent_kafka.admin import AdminClient
    from confluent_kafka.cimpl import NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, partitions, -1)]).values():
        future.result(timeout=30)
