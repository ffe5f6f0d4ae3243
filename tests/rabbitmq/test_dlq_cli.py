"""``spine dlq`` on RabbitMQ: list, show and replay a poison message and a handler bug's dead letter."""

from __future__ import annotations

from contracts.dlq_scenario import BuggyStock, run_story, stock_app, stock_options

from .conftest import RabbitScope


def test_list_show_and_replay_on_rabbitmq(rabbit: RabbitScope) -> None:
    consumer = BuggyStock()
    rabbit.topic_queues("order.created")  # deleted after the test
    service = rabbit.start(stock_app(consumer), stock_options("rabbitmq", rabbit.prefix))
    run_story(service.runtime, consumer, rabbit.env())
