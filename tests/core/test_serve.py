"""Serving on waitress and on granian: real sockets, graceful stop of in-flight work, the SIGTERM path,
and worker processes."""

from __future__ import annotations

import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from spine_core import BootError, Context, Spine, hookimpl, publish
from spine_core.messages import ACK, IncomingMessage, Settlement, Subscription
from spine_core.options import BrokerConfig
from spine_core.serve import Service
from spine_core.servers.waitress_server import WaitressServer, quiet_waitress_queue
from spine_memory import MemoryBroker, MemoryPlugin

from .support import SERVERS, OrderCreated, options, send

DEADLINE = 30.0


class Gate:
    """A handler that announces it started, then waits to be released."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.done: list[int] = []

    def slow(self, ctx: Context) -> str:
        self.entered.set()
        assert self.release.wait(DEADLINE), "the test never released the handler"
        return "finished"

    def consume(self, event: OrderCreated) -> None:
        self.entered.set()
        assert self.release.wait(DEADLINE), "the test never released the handler"
        self.done.append(event.order_id)

    def create(self, ctx: Context) -> str:
        publish.event(ctx, OrderCreated(1))
        return "OK"


@pytest.fixture
def gate() -> Gate:
    return Gate()


@pytest.fixture
def broker() -> MemoryBroker:
    return MemoryBroker()


@pytest.fixture(params=SERVERS)
def server(request: pytest.FixtureRequest) -> str:
    """The HTTP server under test; every served test runs on each."""
    return str(request.param)


@pytest.fixture
def services() -> Iterator[list[Service]]:
    """Services started by a test; stopped at the end even if the test failed."""
    started: list[Service] = []
    yield started
    for service in started:
        service.stop(timeout=1.0)


def start(app: Spine, broker: MemoryBroker, services: list[Service], server: str, **kw: object) -> Service:
    opts = options(server=server, **kw)  # type: ignore[arg-type]
    service = app.start(opts, broker=MemoryPlugin(BrokerConfig.from_options(opts), broker))
    services.append(service)
    return service


def request(port: int, method: str, path: str) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class InThread(threading.Thread):
    """Runs ``target(*args)``; ``box["result"]`` holds its return value once joined."""

    def __init__(self, target: Callable[..., object], *args: object) -> None:
        super().__init__(daemon=True)
        self.box: dict[str, object] = {}
        self._call = target, args

    def run(self) -> None:
        target, args = self._call
        self.box["result"] = target(*args)


def in_thread(target: Callable[..., object], *args: object) -> InThread:
    """Run ``target(*args)`` in a started thread."""
    thread = InThread(target, *args)
    thread.start()
    return thread


def http_app(gate: Gate) -> Spine:
    app = Spine()
    app.container.provide(Gate, gate)
    app.route("GET", "/slow", Gate.slow)
    app.route("POST", "/orders", Gate.create)
    return app


def test_serves_on_an_ephemeral_port(
    gate: Gate, broker: MemoryBroker, services: list[Service], server: str
) -> None:
    """With address 127.0.0.1:0 the service binds a free port and answers over real HTTP."""
    service = start(http_app(gate), broker, services, server)
    assert service.port
    assert request(service.port, "POST", "/orders") == (200, b"OK")
    assert len(broker.messages("order.created")) == 1


def test_stop_finishes_an_in_flight_request(
    gate: Gate, broker: MemoryBroker, services: list[Service], server: str
) -> None:
    """A request being handled when stop begins still gets its full answer; stop waits for it."""
    service = start(http_app(gate), broker, services, server)
    client = in_thread(request, service.port, "GET", "/slow")
    assert gate.entered.wait(DEADLINE)
    stopper = in_thread(service.stop)
    stopper.join(0.2)
    assert stopper.is_alive(), "stop waits for the request in flight"
    gate.release.set()
    client.join(DEADLINE)
    stopper.join(DEADLINE)
    assert client.box["result"] == (200, b"finished")
    assert not stopper.is_alive()


def test_an_unconfirmed_event_is_a_503_over_the_wire(
    gate: Gate, broker: MemoryBroker, services: list[Service], server: str
) -> None:
    """A request whose event the broker cannot confirm gets a 503, never OK, on either server."""
    service = start(http_app(gate), broker, services, server, publish_timeout=0.05)
    assert service.port
    broker.available = False
    status, body = request(service.port, "POST", "/orders")
    broker.available = True
    assert status == 503, body
    assert broker.messages("order.created") == []


def refused(port: int) -> bool:
    """Whether a new connection to ``port`` is refused (one that was queued when the listening
    socket closed is reset instead: ask again)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=DEADLINE).close()
        return False
    except ConnectionRefusedError:
        return True
    except ConnectionResetError:
        return False


def wait_until(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    """Wait for ``condition()`` to hold; fail after DEADLINE."""
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.002)


def test_stop_refuses_new_work_while_draining(
    gate: Gate, broker: MemoryBroker, services: list[Service], server: str
) -> None:
    """While draining, new connections are refused at once and a kept-alive connection gets a 503."""
    service = start(http_app(gate), broker, services, server)
    port = service.port
    assert port
    kept_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    kept_alive.request("GET", "/nowhere")
    assert kept_alive.getresponse().read()
    client = in_thread(request, port, "GET", "/slow")
    assert gate.entered.wait(DEADLINE)
    stopper = in_thread(service.stop)
    wait_until(lambda: refused(port), "new connections are refused")
    try:
        kept_alive.request("POST", "/orders")
        response = kept_alive.getresponse()
        # waitress reads the request and the app refuses it; granian closes the connection unread.
        assert (response.status, response.read()) == (503, b'{"message":"shutting down"}')
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        assert server == "granian", "waitress answers a kept-alive connection 503 while draining"
    kept_alive.close()
    gate.release.set()
    client.join(DEADLINE)
    stopper.join(DEADLINE)
    assert client.box["result"] == (200, b"finished")
    assert broker.messages("order.created") == [], "no refused request published anything"


def test_idle_keep_alive_connection_does_not_hold_stop(
    gate: Gate, broker: MemoryBroker, services: list[Service], server: str
) -> None:
    """An idle kept-alive client does not make stop wait for the timeout, and no server thread is left."""
    service = start(http_app(gate), broker, services, server, shutdown_timeout=DEADLINE)
    assert service.port
    idle = http.client.HTTPConnection("127.0.0.1", service.port, timeout=DEADLINE)
    idle.request("POST", "/orders")
    assert idle.getresponse().read() == b"OK"
    running = service._server
    began = time.monotonic()
    service.stop()
    assert time.monotonic() - began < DEADLINE / 2
    assert idle.sock is not None and idle.sock.recv(1) == b"", "the server closed the idle connection"
    if isinstance(running, WaitressServer):
        assert not running._thread.is_alive()
        assert running.server.task_dispatcher.threads == set()
    idle.close()


@pytest.mark.parametrize("http", [False, True], ids=["no http", "beside the server"])
def test_stop_finishes_an_in_flight_message(
    gate: Gate, broker: MemoryBroker, services: list[Service], server: str, http: bool
) -> None:
    """A message being handled when stop begins is finished and acknowledged, not redelivered;
    also when the consumer runs beside the HTTP server (which answers its health meanwhile)."""
    app = Spine()
    app.container.provide(Gate, gate)
    app.consumers().register("order.created", Gate.consume)
    service = start(app, broker, services, server, group="stock", http=http)
    if http:
        assert service.port and request(service.port, "GET", "/health/ready")[0] == 200
    send(broker, OrderCreated(42))
    assert gate.entered.wait(DEADLINE)
    stopper = in_thread(service.stop)
    stopper.join(0.2)
    assert stopper.is_alive(), "stop waits for the message in flight"
    gate.release.set()
    stopper.join(DEADLINE)
    assert not stopper.is_alive()
    assert gate.done == [42]
    redelivered: list[IncomingMessage] = []

    def record(message: IncomingMessage) -> Settlement:
        redelivered.append(message)
        return ACK

    successor = broker.join("stock", [Subscription("order.created", record)])
    broker.drain(DEADLINE)
    broker.leave(successor, DEADLINE)
    assert redelivered == [], "the message was acknowledged before the service stopped"


class FailingStart(MemoryPlugin):
    """A broker plugin whose clients cannot start."""

    @hookimpl
    def spine_broker_start(self) -> None:
        raise ConnectionError("broker unreachable")


def test_a_failed_start_leaves_the_port_free(gate: Gate, broker: MemoryBroker, server: str) -> None:
    """When the broker cannot start, the bound socket is closed again: the port can be bound anew."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    opts = options(server=server, address=f"127.0.0.1:{port}")
    with pytest.raises(ConnectionError, match="broker unreachable"):
        http_app(gate).start(opts, broker=FailingStart(BrokerConfig.from_options(opts), broker))
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))  # EADDRINUSE if the service's socket were left open


def test_bad_address_fails_before_anything_starts(gate: Gate, broker: MemoryBroker, services: list[Service]) -> None:
    """An unparsable address is a BootError, and no consumer was left running."""
    app = Spine()
    app.container.provide(Gate, gate)
    app.consumers().register("order.created", Gate.consume)
    app.route("GET", "/slow", Gate.slow)
    opts = options(group="stock", address="nowhere")
    with pytest.raises(BootError, match="is not HOST:PORT"):
        app.start(opts, broker=MemoryPlugin(BrokerConfig.from_options(opts), broker))
    send(broker, OrderCreated(1))
    broker.drain(timeout=0)  # no member joined the group: nothing is waiting to be consumed


SERVICE_SCRIPT = textwrap.dedent("""
    import logging, os, sys
    from spine_core import Context, Options, Spine

    fifo = sys.argv[1]

    def slow(ctx: Context) -> str:
        logging.getLogger("test").info("handler entered")
        with open(fifo) as f:
            return "finished " + f.read()

    def pid(ctx: Context) -> str:
        return str(os.getpid())

    app = Spine()
    app.route("GET", "/slow", slow)
    app.route("GET", "/pid", pid)
    app.run(Options(address="127.0.0.1:0", shutdown_timeout=10.0))
""")


class Lines:
    """The lines a subprocess writes, read in a thread so a test can wait for one."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self.lines: list[str] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream) -> None:  # type: ignore[no-untyped-def]
        for line in stream:
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()

    def wait_for(self, text: str, timeout: float = DEADLINE) -> str:
        with self._cond:
            found = self._cond.wait_for(lambda: next((x for x in self.lines if text in x), None), timeout)
        assert found, f"{text!r} not logged within {timeout}s; got:\n{''.join(self.lines)}"
        return found


def service_process(tmp_path: Path, **env: str) -> tuple[subprocess.Popen[str], Path, Lines]:
    """SERVICE_SCRIPT in a process with ``env`` (SPINE_SERVER, SPINE_WORKERS); its fifo and its log."""
    fifo = tmp_path / "release"
    os.mkfifo(fifo)
    script = tmp_path / "service.py"
    script.write_text(SERVICE_SCRIPT)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    full_env.update(SPINE_BROKER="memory", PYTHONUNBUFFERED="1", **env)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(fifo)], env=full_env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    return proc, fifo, Lines(proc.stdout)


def test_sigterm_finishes_in_flight_request_and_exits_zero(tmp_path: Path, server: str) -> None:
    """On SIGTERM ``run`` stops accepting, finishes the request in flight, and the process exits 0."""
    proc, fifo, log = service_process(tmp_path, SPINE_SERVER=server)
    try:
        line = log.wait_for("listening on http://127.0.0.1:")
        assert line.split()[-4] == server, line
        port = int(line.rsplit(":", 1)[1])
        client = in_thread(request, port, "GET", "/slow")
        log.wait_for("handler entered")
        proc.send_signal(signal.SIGTERM)
        log.wait_for("SIGTERM received")
        assert proc.poll() is None, "the process waits for the request in flight"
        fifo.write_text("after SIGTERM")
        client.join(DEADLINE)
        assert client.box["result"] == (200, b"finished after SIGTERM")
        assert proc.wait(DEADLINE) == 0
        log.wait_for("stopped")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def workers_of(pid: int) -> set[int]:
    """The child processes of ``pid``."""
    return {int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}


def test_workers_share_the_socket_restart_and_stop_gracefully(tmp_path: Path, server: str) -> None:
    """With SPINE_WORKERS=2 two processes answer on one port; one killed with SIGKILL is replaced;
    on SIGTERM the request in flight finishes and every process exits 0."""
    proc, fifo, log = service_process(tmp_path, SPINE_SERVER=server, SPINE_WORKERS="2")
    try:
        port = int(log.wait_for("2 workers listening on http://127.0.0.1:").rsplit(":", 1)[1])
        wait_until(lambda: sum(f"{server} listening on" in x for x in log.lines) == 2, "both workers serve")
        first = workers_of(proc.pid)
        assert len(first) == 2
        answered: set[int] = set()

        def both_answered() -> bool:
            answered.add(int(request(port, "GET", "/pid")[1]))
            return answered == first

        wait_until(both_answered, "both workers answered")
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        log.wait_for("exited with code -9: starting another")
        wait_until(lambda: sum(f"{server} listening on" in x for x in log.lines) == 3, "a new worker serves")
        second = workers_of(proc.pid)
        assert len(second) == 2 and victim not in second and (first - {victim}) < second
        client = in_thread(request, port, "GET", "/slow")
        log.wait_for("handler entered")
        proc.send_signal(signal.SIGTERM)
        log.wait_for("SIGTERM received: stopping 2 workers")
        wait_until(lambda: sum("SIGTERM received: shutting down" in x for x in log.lines) == 2, "both workers stop")
        assert proc.poll() is None, "the supervisor waits for the request in flight"
        fifo.write_text("in a worker")
        client.join(DEADLINE)
        assert client.box["result"] == (200, b"finished in a worker")
        assert proc.wait(DEADLINE) == 0
        assert sum(x.rstrip().endswith(": stopped") for x in log.lines) == 3, "two workers and the supervisor"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_waitress_queue_warnings_are_quiet_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """waitress's per-request "Task queue depth" warning is silenced, but a level the
    application chose for that logger is kept."""
    queue_log = logging.getLogger("waitress.queue")
    monkeypatch.setattr(queue_log, "level", logging.NOTSET)
    quiet_waitress_queue()
    assert queue_log.getEffectiveLevel() == logging.ERROR
    monkeypatch.setattr(queue_log, "level", logging.INFO)
    quiet_waitress_queue()
    assert queue_log.level == logging.INFO


def test_workers_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    """A supervisor killed with SIGKILL leaves no worker serving: each one gets SIGTERM and exits."""
    proc, _, log = service_process(tmp_path, SPINE_WORKERS="2")
    try:
        log.wait_for("2 workers listening on http://127.0.0.1:")
        wait_until(lambda: sum("waitress listening on" in x for x in log.lines) == 2, "both workers serve")
        workers = workers_of(proc.pid)
        assert len(workers) == 2
        proc.kill()
        proc.wait()
        wait_until(lambda: sum("SIGTERM received: shutting down" in x for x in log.lines) == 2, "both workers stop")
        wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), "both workers exited")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
