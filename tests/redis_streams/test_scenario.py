"""The seed scenario over Redis Streams as two processes, ``apps/`` unchanged (``SPINE_BROKER=redis``),
and a stock service killed mid-stream whose pending entries the next member claims."""

from __future__ import annotations

from typing import Any

import redis
from broker_checks import ServiceProcess, killed_mid_stream, publishing_plugin, seed_scenario

from .conftest import RedisScope


def test_seed_scenario_over_redis(scope: RedisScope, processes: list[ServiceProcess]) -> None:
    """POST /orders/12345 → OK, and the stock service logs the seed's two lines; both exit cleanly."""
    seed_scenario(processes, scope.env(), ready="consuming")


def test_entries_of_a_killed_member_are_claimed_by_the_next(
    scope: RedisScope, processes: list[ServiceProcess]
) -> None:
    """SIGKILL the stock service while it works through 3,000 orders, start another member: it
    claims the dead member's pending entries (``XAUTOCLAIM`` after ``claim.idle``), so every
    order is handled at least once, and nothing stays pending."""
    stream = scope.prefix + "order.created"
    client = redis.Redis.from_url(scope.url)

    def dead_member_left_pending_entries() -> None:
        assert client.xpending(stream, scope.group)["pending"] > 0, "the dead member left no pending entries"

    env = scope.env(SPINE_REDIS_CLAIM_IDLE="2", SPINE_REDIS_MAX_PENDING="400")
    publisher = publishing_plugin(scope.plugin, "redis", scope.prefix)
    try:
        killed_mid_stream(processes, env, publisher, scope.prefix, ready="consuming",
                          after_kill=dead_member_left_pending_entries)
        assert client.xpending(stream, scope.group)["pending"] == 0
        members: Any = client.xinfo_consumers(stream, scope.group)
        killed, stopped = (f"-{service.proc.pid}-" for service in processes[-2:])
        names = [member["name"].decode() if isinstance(member["name"], bytes) else member["name"] for member in members]
        assert not [n for n in names if stopped in n], "the member shut down gracefully did not leave the group"
        # the killed one stays until the next member prunes it, claim.idle after its entries were claimed
        assert all(killed in n for n in names), names
    finally:
        client.close()
