"""FastAPI + FastStream, the stack users would pick instead of Spine, as the benchmarks run it.

``python -m bench.faststream_app PORT BROKER TOPIC``: uvicorn (uvloop, httptools, one
worker) serving ``POST /orders/{order_id}``, which publishes ``{"order_id", "at"}`` keyed by
the order id and answers ``OK`` once the broker confirmed it (``publish`` awaits it). BROKER
picks FastStream's broker by its scheme, each confirming as Spine's plugin does:

- ``host:port`` (Kafka): aiokafka, acks=all as Spine's producer, not idempotent (Tansu refuses
  aiokafka's producer id);
- ``nats://...``: JetStream publish into the stream of TOPIC (made at start), awaiting its ack;
- ``amqp://...``: persistent, mandatory, with publisher confirms, to a durable topic exchange
  ``<TOPIC>.faststream`` whose durable queue of the same name is bound to TOPIC (the bench
  deletes both);
- ``redis://...``: ``XADD`` to the stream TOPIC.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # moving to the faststream_fastapi package; 0.7 has it
    from faststream.kafka.fastapi import KafkaRouter
    from faststream.nats.fastapi import NatsRouter
    from faststream.rabbit.fastapi import RabbitRouter
    from faststream.redis.fastapi import RedisRouter

Publish = Callable[[Any, int], Awaitable[Any]]


def _kafka(bootstrap: str, topic: str) -> tuple[Any, Publish]:
    router = KafkaRouter(bootstrap, acks="all", logger=None)  # not idempotent: Tansu refuses aiokafka's producer id
    return router, lambda event, key: router.broker.publish(event, topic, key=str(key).encode())


def _nats(url: str, topic: str) -> tuple[Any, Publish]:
    from spine_nats.config import stream_name

    router = NatsRouter(url, logger=None)
    stream = stream_name(topic)

    @router.after_startup
    async def make_stream(_app: Any) -> None:
        import nats

        client = await nats.connect(url)
        await client.jetstream().add_stream(name=stream, subjects=[topic])
        await client.close()

    return router, lambda event, key: router.broker.publish(event, topic, stream=stream)


def _rabbit(url: str, topic: str) -> tuple[Any, Publish]:
    from faststream.rabbit import ExchangeType, RabbitExchange, RabbitQueue

    router = RabbitRouter(url, logger=None)
    exchange = RabbitExchange(f"{topic}.faststream", type=ExchangeType.TOPIC, durable=True)
    queue = RabbitQueue(f"{topic}.faststream", durable=True, routing_key=topic)

    @router.after_startup
    async def bind(_app: Any) -> None:
        declared = await router.broker.declare_queue(queue)
        await declared.bind(await router.broker.declare_exchange(exchange), routing_key=topic)

    return router, lambda event, key: router.broker.publish(
        event, exchange=exchange, routing_key=topic, persist=True, mandatory=True)


def _redis(url: str, topic: str) -> tuple[Any, Publish]:
    router = RedisRouter(url, logger=None)
    return router, lambda event, key: router.broker.publish(event, stream=topic)


def create_app(broker: str, topic: str) -> FastAPI:
    scheme = broker.split("://", 1)[0] if "://" in broker else "kafka"
    make = {"kafka": _kafka, "nats": _nats, "amqp": _rabbit, "redis": _redis}[scheme]
    router, publish = make(broker, topic)

    @router.post("/orders/{order_id}", response_class=PlainTextResponse)
    async def create(order_id: int) -> str:
        event: Any = {"order_id": order_id, "at": datetime.now(timezone.utc).isoformat()}  # JSON, as Spine sends
        await publish(event, order_id)
        return "OK"

    app = FastAPI()
    app.include_router(router)
    return app


def main() -> None:
    port, broker, topic = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    uvicorn.run(
        create_app(broker, topic), host="127.0.0.1", port=port, loop="uvloop", http="httptools",
        workers=1, log_level="warning", access_log=False,
    )


if __name__ == "__main__":
    main()
