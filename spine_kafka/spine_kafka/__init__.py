"""spine-kafka: the Kafka broker plugin for Spine, on confluent-kafka."""

from .config import KafkaSettings
from .plugin import KafkaPlugin

__all__ = ["KafkaPlugin", "KafkaSettings"]
