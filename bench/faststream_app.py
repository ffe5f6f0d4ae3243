"""FastAPI + FastStream, the stack users would pick instead of Spine, as the benchmarks run it.

``python -m bench.faststream_app PORT BOOTSTRAP TOPIC``: uvicorn (uvloop, httptools, one
worker) serving ``POST /orders/{order_id}``, which publishes ``{"order_id", "at"}`` keyed by
the order id with FastStream's Kafka broker (aiokafka; acks=all as Spine's producer, not
idempotent: Tansu refuses aiokafka's producer id) and answers ``OK`` once the broker
confirmed it (``publish`` awaits the delivery).
"""

from __future__ import annotations

import sys
import warnings
from datetime import datetime, timezone
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # moving to the faststream_fastapi package; 0.7 has it
    from faststream.kafka.fastapi import KafkaRouter


def create_app(bootstrap: str, topic: str) -> FastAPI:
    router = KafkaRouter(bootstrap, acks="all", logger=None)  # not idempotent: Tansu refuses aiokafka's producer id

    @router.post("/orders/{order_id}", response_class=PlainTextResponse)
    async def create(order_id: int) -> str:
        event: Any = {"order_id": order_id, "at": datetime.now(timezone.utc).isoformat()}  # JSON, as Spine sends
        await router.broker.publish(event, topic, key=str(order_id).encode())
        return "OK"

    app = FastAPI()
    app.include_router(router)
    return app


def main() -> None:
    port, bootstrap, topic = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    uvicorn.run(
        create_app(bootstrap, topic), host="127.0.0.1", port=port, loop="uvloop", http="httptools",
        workers=1, log_level="warning", access_log=False,
    )


if __name__ == "__main__":
    main()
