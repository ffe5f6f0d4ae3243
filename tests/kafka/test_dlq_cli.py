"""``spine dlq`` on Kafka: list, show and replay a poison message and a handler bug's dead letter."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from contracts.dlq_scenario import BuggyStock, run_story, stock_app, stock_options

from .conftest import Started


def test_list_show_and_replay_on_kafka(kafka_app: Callable[..., Started], kafka_bootstrap_servers: str) -> None:
    prefix = f"k{uuid.uuid4().hex[:6]}."
    consumer = BuggyStock()
    started = kafka_app(stock_app(consumer), stock_options("kafka", prefix))
    started.wait_ready()
    env = {"SPINE_BROKER": "kafka", "SPINE_KAFKA_TOPIC_PREFIX": prefix,
           "SPINE_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap_servers}
    run_story(started.runtime, consumer, env)
