"""Figures over Redis Streams, measured like RabbitMQ's: ``PYTHONPATH=.:tests python -m
redis_streams.measure [--orders N] [--messages N]`` (POST latency through the seed's order service, then consumer
throughput through Spine's full pipeline; see ``tests/rabbitmq/measure.py``). Prints one JSON line."""

from __future__ import annotations

import argparse
import json
import os
import uuid
from typing import Any

import redis
from rabbitmq.measure import Target, consumer_throughput, post_latency

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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=20000)
    args = parser.parse_args()
    run = uuid.uuid4().hex[:8]
    target, prefix, group = Redis(), f"m{run}.", f"m{run}-stock"
    result: dict[str, Any] = {"broker": "redis", "orders": args.orders, "messages": args.messages,
                              "load_average": os.getloadavg()[0]}
    try:
        result.update(post_latency(target, prefix, args.orders))
        result.update(consumer_throughput(target, prefix, group, args.messages))
    finally:
        target.cleanup(prefix, group)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
