"""One soak: start the broker and both services, stream orders, take the broker away twice
and SIGKILL the stock service twice on a schedule, wait for the stock service to catch up,
then count."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from attrs import field, frozen

from .brokers import Broker, open_broker
from .ledger import Handled
from .load import TIMEOUT, OrderStream
from .processes import Service
from .report import Figures, Memory, Outage, figures
from .timeline import Timeline
from .watch import ReadinessWatch

READY_WITHIN = 60.0
"""How long a started service may take to answer ready."""
RECOVER_WITHIN = 30.0
"""How long after the broker's return the services may take to answer 200 and handle orders
again before the stock service is killed or the stream ends."""
CATCH_UP_WITHIN = 30.0
"""How long the stock service may take to handle every order answered 200 before the
in-memory broker is stopped (else those orders are gone with it)."""


@frozen
class Plan:
    broker: str = "kafka"
    seconds: float = 60.0
    """How long orders are sent."""
    rate: float = 20.0
    """Orders per second."""
    outage: float = 5.0
    """How long the broker stays away, each time."""
    stock_down: float = 2.0
    """How long the stock service stays dead after each SIGKILL."""
    drain: float = 60.0
    """At the end, how long the stock service may take to handle every order answered 200."""
    logs: Path = field(factory=lambda: Path(tempfile.mkdtemp(prefix="soak-")))
    """Where each service run's output is written."""


@frozen
class Result:
    figures: Figures
    timeline: str


def service_env(broker: Broker) -> dict[str, str]:
    """This process's environment without its ``SPINE_*``, plus the broker's and the soak's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env.update(PYTHONUNBUFFERED="1", SPINE_ADDRESS="127.0.0.1:0", SPINE_LOG_LEVEL="INFO", SPINE_LOG_FORMAT="text")
    env.update(broker.env())
    return env


def wait_until(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class Soak:
    """The running soak: its clock, broker, services, order stream and ledger."""

    def __init__(self, plan: Plan, out: TextIO | None) -> None:
        self.plan = plan
        self.clock = Timeline(out)
        self.handled = Handled()
        self.outages: list[Outage] = []
        self.stock_runs: list[Service] = []
        self.started = 0
        self.broker: Broker | None = None
        self.order: Service | None = None
        self.stock: Service | None = None
        self.stream: OrderStream | None = None

    def start_service(self, module: str, label: str) -> Service:
        assert self.broker is not None
        self.started += 1
        log = self.plan.logs / f"{self.started}-{module.removeprefix('apps.')}.log"
        service = Service(module, service_env(self.broker), self.clock, log)
        if wait_until(lambda: service.ready() is True or service.proc.poll() is not None, READY_WITHIN) \
                and service.proc.poll() is None:
            self.clock.note(f"{label} started (pid {service.pid}), ready, RSS {service.rss_mb() or 0:.1f} MiB")
        else:
            self.clock.note(f"{label} started (pid {service.pid}) but NOT ready within {READY_WITHIN:.0f}s")
        return service

    def start_stock(self) -> None:
        self.stock = self.start_service("apps.stock_app", f"stock service run {len(self.stock_runs) + 1}")
        self.stock_runs.append(self.stock)
        self.handled.add_run(self.stock)

    def kill_stock(self) -> None:
        assert self.stock is not None
        self.await_recovery()
        self.clock.note(f"SIGKILL stock service run {len(self.stock_runs)} (pid {self.stock.pid})")
        self.stock.kill()
        time.sleep(self.plan.stock_down)
        self.start_stock()

    def await_recovery(self) -> None:
        """After the broker's last return, wait (until ``RECOVER_WITHIN`` after it) for an
        order answered 200 and an order handled by the stock service run that lived through
        the outage: before a SIGKILL (a new run would hide a consumer that never recovers) and
        before the stream ends (else no order would show a recovery)."""
        if not self.outages:
            return
        outage = self.outages[-1]
        run = len(self.stock_runs) if outage.stock_run == len(self.stock_runs) else None

        def recovered() -> bool:
            assert self.stream is not None
            self.handled.update()
            answered = any(a.status == 200 and a.answered > outage.back for a in list(self.stream.answers))
            handled = run is None or any(at > outage.back and n == run for at, _, n in self.handled.times)
            return answered and handled

        if not wait_until(recovered, outage.back + RECOVER_WITHIN - self.clock.now()):
            self.clock.note(f"no recovery within {RECOVER_WITHIN:g}s of the broker's return "
                            "(no order answered 200, or none handled by the stock service run that lived through it)")

    def services(self) -> dict[str, Service]:
        """The running services by label."""
        running = {"order service": self.order, "stock service": self.stock}
        return {label: service for label, service in running.items() if service is not None}

    def answered_200(self) -> set[int]:
        assert self.stream is not None
        return {a.order_id for a in list(self.stream.answers) if a.status == 200}

    def broker_away(self) -> None:
        assert self.broker is not None and self.stream is not None
        if not self.broker.keeps_messages:
            self.hold()
        self.broker.away()
        away = self.clock.note("broker AWAY")
        self.stream.resume()
        time.sleep(self.plan.outage)
        self.broker.back()
        back = self.clock.note("broker BACK")
        self.outages.append(Outage(away, back, len(self.stock_runs)))

    def hold(self) -> None:
        """Pause the stream until the stock service handled every order answered 200: the
        broker keeps nothing over its restart, so what it still holds would be lost with it."""
        assert self.stream is not None
        held = self.clock.note("stream held: no new orders until those sent are answered and handled")
        if self.stream.hold(TIMEOUT):
            self.clock.note(f"every order sent answered after {self.clock.now() - held:.2f}s")
        else:
            self.clock.note(f"orders still unanswered after {TIMEOUT:g}s")
        held = self.clock.now()
        if wait_until(lambda: not self.handled.missing(self.answered_200()), CATCH_UP_WITHIN):
            self.clock.note(f"stock service caught up after {self.clock.now() - held:.2f}s")
        else:
            missing = self.handled.missing(self.answered_200())
            self.clock.note(f"stock service did NOT catch up within {CATCH_UP_WITHIN:.0f}s: {len(missing)} "
                            "order(s) answered 200 not handled are lost with the broker")

    def run(self) -> Result:
        plan = self.plan
        self.broker = open_broker(plan.broker)
        try:
            self.clock.note(f"{plan.broker} broker up; outage: {self.broker.outage}; service logs in {plan.logs}")
            return self._soak()
        finally:
            for service in (self.order, self.stock):
                if service is not None:
                    service.kill()
            self.broker.close()

    def _soak(self) -> Result:
        plan = self.plan
        self.start_stock()
        self.order = self.start_service("apps.order_app", "order service")
        assert self.stock is not None
        rss_start = (self.order.rss_mb(), self.stock.rss_mb())
        watch = ReadinessWatch(self.services, self.clock)
        watch.start()
        self.stream = OrderStream(self.order.port(), plan.rate, self.clock)
        began = time.monotonic()
        self.stream.start()
        self.clock.note(f"orders streaming: POST /orders/N at {plan.rate:g}/s for {plan.seconds:g}s")
        schedule: list[tuple[float, Callable[[], None]]] = [
            (0.15, self.kill_stock), (0.30, self.broker_away), (0.55, self.kill_stock), (0.70, self.broker_away),
        ]
        for fraction, action in schedule:
            time.sleep(max(0.0, began + fraction * plan.seconds - time.monotonic()))
            action()
        time.sleep(max(0.0, began + plan.seconds - time.monotonic()))
        self.await_recovery()
        self.stream.stop()
        ok = self.answered_200()
        stopped = self.clock.note(f"orders stopped: {self.stream.sent()} sent, {len(ok)} answered 200; "
                                  f"waiting up to {plan.drain:g}s for the stock service to handle them")
        if wait_until(lambda: not self.handled.missing(ok), plan.drain):
            self.clock.note(f"stock service caught up after {self.clock.now() - stopped:.2f}s")
        else:
            self.clock.note(f"stock service did NOT catch up within {plan.drain:g}s")
        watch.stop()
        order_rss = Memory(rss_start[0], self.order.rss_mb())
        stock_rss = Memory(rss_start[1], self.stock.rss_mb())
        for label, service in (("order service", self.order), ("stock service", self.stock)):
            code = service.terminate(15)
            self.clock.note(f"{label} SIGTERM: exit code {code}")
        errors = {"order service": self.order.errors(),
                  "stock service (all runs)": sum(run.errors() for run in self.stock_runs)}
        assert self.broker is not None
        result = figures(plan.broker, self.broker.outage, self.stream.answers, self.handled, self.outages,
                         order_rss, stock_rss, len(self.stock_runs), errors)
        for n, r in enumerate(result.recoveries, 1):
            if r.to_200 is not None:
                self.clock.note(f"first order answered 200 after broker back #{n} (+{r.to_200:.2f}s)",
                                r.back + r.to_200)
            if r.to_handled is not None:
                self.clock.note(f"first order handled by stock run {r.stock_run} after broker back #{n} "
                                f"(+{r.to_handled:.2f}s)",
                                r.back + r.to_handled)
        return Result(result, self.clock.render())


def soak(plan: Plan, out: TextIO | None = sys.stdout) -> Result:
    """Run the soak of ``plan``, printing its timeline to ``out`` as it goes."""
    return Soak(plan, out).run()
