"""The seed scenario over NATS JetStream as two processes, ``apps/`` unchanged (``SPINE_BROKER=nats``),
and a stock service killed mid-stream whose unacknowledged messages go to the next member."""

from __future__ import annotations

import asyncio

import nats
from broker_checks import ServiceProcess, killed_mid_stream, publishing_plugin, seed_scenario

from spine_nats.config import durable_name, stream_name

from .conftest import NatsScope


async def _ack_pending(url: str, stream: str, durable: str) -> int:
    client = await nats.connect(url)
    try:
        info = await client.jetstream().consumer_info(stream, durable)
        return info.num_ack_pending or 0
    finally:
        await client.close()


def test_seed_scenario_over_nats(scope: NatsScope, processes: list[ServiceProcess]) -> None:
    """POST /orders/12345 → OK, and the stock service logs the seed's two lines; both exit cleanly."""
    seed_scenario(processes, scope.env(), ready="consuming")


def test_messages_of_a_killed_member_are_redelivered_to_the_next(
    scope: NatsScope, processes: list[ServiceProcess]
) -> None:
    """SIGKILL the stock service while it works through 3,000 orders, start another member: JetStream
    redelivers what the dead member never acknowledged (after ``ack.wait``), so every order is handled
    at least once, and nothing stays unacknowledged."""
    stream, durable = stream_name(scope.prefix + "order.created"), durable_name(scope.group)

    def dead_member_left_unacknowledged_messages() -> None:
        assert asyncio.run(_ack_pending(scope.url, stream, durable)) > 0, "the dead member left nothing unacked"

    env = scope.env(SPINE_NATS_ACK_WAIT="2", SPINE_NATS_MAX_PENDING="400")
    publisher = publishing_plugin(scope.plugin, "nats", scope.prefix)
    killed_mid_stream(processes, env, publisher, scope.prefix, ready="consuming",
                      after_kill=dead_member_left_unacknowledged_messages)
    assert asyncio.run(_ack_pending(scope.url, stream, durable)) == 0
