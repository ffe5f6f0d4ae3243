"""The seed scenario over RabbitMQ as two processes, ``apps/`` unchanged (``SPINE_BROKER=rabbitmq``)."""

from __future__ import annotations

from broker_checks import ServiceProcess, killed_mid_stream, publishing_plugin, seed_scenario

from .conftest import RabbitScope


def test_seed_scenario_over_rabbitmq(rabbit: RabbitScope, processes: list[ServiceProcess]) -> None:
    """POST /orders/12345 → OK, and the stock service logs the seed's two lines; both exit cleanly."""
    rabbit.topic_queues("order.created")
    seed_scenario(processes, rabbit.env(), ready="consuming")


def test_consumer_killed_mid_stream_handles_every_message_at_least_once(
    rabbit: RabbitScope, processes: list[ServiceProcess]
) -> None:
    """SIGKILL the stock service while it works through 3,000 orders, start it again: every
    order is handled at least once (those handled but not yet acked are handled twice)."""
    rabbit.topic_queues("order.created")
    publisher = publishing_plugin(rabbit.plugin, "rabbitmq", rabbit.prefix)
    killed_mid_stream(processes, rabbit.env(), publisher, rabbit.prefix, ready="consuming")
