"""The reference servers of the publish benchmark, each its own process.

``SERVER`` is ``waitress`` or ``granian`` (granian's WSGI worker embedded in the process as
Spine runs it, ``spine_core.servers.granian_server``: one Rust thread, THREADS Python threads).

``python -m bench.servers bare PORT THREADS [SERVER]``: Falcon, ``POST /orders/{id}``
answers ``OK`` and publishes nothing (the ceiling).

``python -m bench.servers handrolled PORT THREADS BOOTSTRAP TOPIC [SERVER]``: what a user would
write without Spine: the same route produces ``{"order_id", "at"}`` with one shared
confluent-kafka producer (Spine's producer defaults: idempotent, acks=all, linger.ms=0),
waits for the delivery report (served by a polling thread) and only then answers.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from datetime import datetime, timezone
from typing import Any

import falcon
import waitress

from spine_core.http.server import MAP_OVERHEAD
from spine_core.options import HTTPOptions


class Bare:
    def on_post(self, req: falcon.Request, resp: falcon.Response, order_id: int) -> None:
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "OK"


class HandRolled:
    def __init__(self, bootstrap: str, topic: str) -> None:
        from confluent_kafka import Producer

        self.topic = topic
        self.producer = Producer({
            "bootstrap.servers": bootstrap, "enable.idempotence": True, "acks": "all", "linger.ms": 0,
        })
        threading.Thread(target=self._poll, daemon=True).start()

    def _poll(self) -> None:
        while True:
            self.producer.poll(0.1)

    def on_post(self, req: falcon.Request, resp: falcon.Response, order_id: int) -> None:
        delivered = threading.Event()
        outcome: list[Any] = []

        def report(error: Any, message: Any) -> None:
            outcome.append(error)
            delivered.set()

        value = json.dumps({"order_id": order_id, "at": datetime.now(timezone.utc).isoformat()})
        self.producer.produce(self.topic, value.encode(), key=str(order_id), on_delivery=report)
        if not delivered.wait(10) or outcome[0] is not None:
            raise falcon.HTTPServiceUnavailable(description=f"not delivered: {outcome}")
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "OK"


def main() -> None:
    kind, port, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    resource = Bare() if kind == "bare" else HandRolled(sys.argv[4], sys.argv[5])
    server = sys.argv[4 if kind == "bare" else 6] if len(sys.argv) > (4 if kind == "bare" else 6) else "waitress"
    app = falcon.App()
    app.add_route("/orders/{order_id:int}", resource)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if server == "granian":
        from spine_core.options import Address
        from spine_core.servers.base import listen
        from spine_core.servers.granian_server import GranianServer

        GranianServer(app, listen(Address("127.0.0.1", port)), threads, 1 << 20).start()
        signal.pause()
        return
    # Spine's connection limit: with waitress's default (100) the many-connections rows would measure
    # 100 clients, the others left unanswered in the backlog, which wrk does not count within a run.
    limit = HTTPOptions().connection_limit + MAP_OVERHEAD
    waitress.serve(app, host="127.0.0.1", port=port, threads=threads, connection_limit=limit, _quiet=True)


if __name__ == "__main__":
    main()
