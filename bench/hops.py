"""``python -m bench.hops``: the files one event passes through, as the code runs.

Two walks on a Kafka-protocol broker (Tansu): a ``POST /orders/7`` from the route's
responder to the Kafka producer's ``produce``, and its ``order.created`` message from
the Kafka consumer's worker to the handler. Figures per walk:

- ``hops``: calls from one file of the project into another;
- ``files``: the project's files entered;
- ``back and forth``: calls into a file the walk had already entered and left (the rest
  of the hops go one way);
- ``into ops``: calls from outside the monitoring modules (metrics, tracing, logs,
  instrumentation, wherever they live) into them;
- ``route``: the files in the order the calls entered them.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

Trigger = Callable[[FrameType, str, Any], bool]
OPS = ("/ops/", "/tracing.py", "/instrument.py", "/metrics.py", "/logs.py", "/otel.py", "/health.py")
"""The monitoring modules, before and after they moved into ``spine_core/ops/``."""


def is_ops(path: str | None) -> bool:
    return path is not None and path.startswith("spine_core/") and any(part in path for part in OPS)


def project_file(filename: str) -> str | None:
    """``filename`` relative to the repository if it is the project's own code, else None."""
    try:
        rel = Path(filename).resolve().relative_to(ROOT)
    except ValueError:
        return None
    return str(rel) if rel.parts[0].startswith("spine_") or rel.parts[0] == "apps" else None


class Walk:
    """The calls between project files one thread makes from ``start`` until ``stop``."""

    def __init__(self, start: Trigger, stop: Trigger) -> None:
        self._start, self._stop = start, stop
        self.armed = False
        self.done = threading.Event()
        self._thread: int | None = None
        self.route: list[str] = []
        self.hops = 0
        self.back_and_forth = 0
        self.into_ops = 0

    def profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if not self.armed or self.done.is_set():
            return
        if self._thread is None:
            if not self._start(frame, event, arg):
                return
            self._thread = threading.get_ident()
        elif threading.get_ident() != self._thread:
            return
        if self._stop(frame, event, arg):
            self.done.set()
        elif event == "call":
            callee = project_file(frame.f_code.co_filename)
            caller = project_file(frame.f_back.f_code.co_filename) if frame.f_back is not None else None
            if callee is None or callee == caller:
                return
            if self.route:
                self.hops += 1
                self.back_and_forth += callee in self.route
                self.into_ops += is_ops(callee) and not is_ops(caller)
            self.route.append(callee)

    def figures(self) -> dict[str, Any]:
        return {"hops": self.hops, "files": len(set(self.route)), "back and forth": self.back_and_forth,
                "into ops": self.into_ops, "route": [Path(f).name for f in self.route]}


def run() -> dict[str, Any]:
    """Both walks, on a Tansu broker of their own."""
    from attrs import evolve
    from falcon.testing import TestClient

    from apps import order_app, stock_app
    from spine_kafka.tansu import TANSU_CONSUMER_SETTINGS, Tansu

    def calls(name: str, where: str) -> Trigger:
        return lambda frame, event, arg: (event == "call" and frame.f_code.co_name == name
                                          and where in frame.f_code.co_filename)

    publish = Walk(calls("respond", "spine_core"),
                   lambda frame, event, arg: event == "c_call" and getattr(arg, "__name__", "") == "produce")
    consume = Walk(calls("message", "spine_kafka"), calls("on_created", "apps"))
    handled = threading.Event()

    def watch(frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_name == "on_created":
            handled.set()
        consume.profile(frame, event, arg)

    threading.setprofile(watch)  # every thread the apps start is watched
    try:
        with Tansu.start() as tansu:
            settings = {"bootstrap.servers": tansu.bootstrap_servers, **TANSU_CONSUMER_SETTINGS}

            def on_tansu(options: Any) -> Any:
                broker = evolve(options.broker, settings={"kafka": settings}, topic_prefix="hops.")
                return evolve(options, address="127.0.0.1:0", broker=broker)

            stock = stock_app.create_app().start(on_tansu(stock_app.options()))
            order = order_app.create_app().start(on_tansu(order_app.options()))
            try:
                assert order.runtime.wsgi is not None
                client = TestClient(order.runtime.wsgi)
                assert client.simulate_post("/orders/6").text == "OK"  # topics made, clients warm
                assert handled.wait(60), "order 6 was not handled"
                publish.armed = consume.armed = True
                sys.setprofile(publish.profile)
                answer = client.simulate_post("/orders/7").text
                sys.setprofile(None)
                assert answer == "OK", answer
                assert consume.done.wait(60), "order 7 was not handled"
            finally:
                order.stop(5.0)
                stock.stop(5.0)
    finally:
        threading.setprofile(None)  # type: ignore[arg-type]
    return {"route to producer": publish.figures(), "consumer to handler": consume.figures()}


def main() -> None:
    os.environ.setdefault("SPINE_LOG_LEVEL", "WARNING")
    figures = run()
    if "--json" in sys.argv:
        print(json.dumps(figures, indent=2))
        return
    for walk, f in figures.items():
        print(f"{walk}: {f['hops']} hops, {f['files']} files, {f['back and forth']} back and forth, "
              f"{f['into ops']} into ops")
        print("  " + " > ".join(f["route"]))


if __name__ == "__main__":
    main()
