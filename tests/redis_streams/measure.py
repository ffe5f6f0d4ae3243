"""Figures over Redis Streams, measured like RabbitMQ's: ``PYTHONPATH=.:tests python -m
redis_streams.measure [--orders N] [--messages N]`` (POST latency through the seed's order service, then consumer
throughput through Spine's full pipeline; see ``tests/rabbitmq/measure.py``). Prints one JSON line."""

from __future__ import annotations

import os
import uuid

import redis
from rabbitmq.measure import Target, arguments, measure

from spine_redis.config import DEFAULT_URL

URL = os.environ.get("SPINE_TEST_REDIS_URL", DEFAULT_URL)


class Redis(Target):
    def __init__(self) -> None:
        super().__init__("redis", {"url": URL})

    def cleanup(self, prefix: str, group: str) -> None:
        client = redis.Redis.from_url(URL)
        keys = list(client.scan_iter(match=prefix + "*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


def main() -> None:
    args = arguments(__doc__ or "")
    measure(Redis(), uuid.uuid4().hex[:8], args.orders, args.messages)


if __name__ == "__main__":
    main()
