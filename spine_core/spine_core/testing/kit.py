"""A broker plugin's own tests, beside the conformance suites: what every plugin's tests need (pytest required).

- :func:`unavailable`: skip a test whose server or tool is missing, or fail it on CI;
- :func:`mark_tests_in`: mark every test of a folder (``pytest -m redis``);
- :func:`wait_until`: wait for a condition, failing after a deadline with what was awaited;
- :class:`Deliveries`: a ``deliver`` that records what it is given and acknowledges it;
- :func:`publishes`, :func:`logged`: after an outage, whether publishing works again and how
  often a line was logged;
- :class:`BrokerScope`: names of one test's own (topic prefix, group id) on a shared server,
  the plugins and services it started (closed after it), and the ``SPINE_*`` environment
  that puts an unchanged app on them;
- :class:`PrivateServer`: a server process of one test's own, to stop and start again;
- :class:`OutageSwitch`: the conformance suite's ``broker_outage`` from a factory and two calls.

A plugin's ``conftest.py``, for example::

    def pytest_collection_modifyitems(items):
        mark_tests_in(__file__, pytest.mark.nats, items)

    @pytest.fixture
    def scope(nats_url):
        with BrokerScope("nats", NatsPlugin, {"url": nats_url}) as scope:
            yield scope
"""

from __future__ import annotations

import os
import socket
import subprocess  # nosec B404 # PrivateServer runs the server a test names, never user input
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, NoReturn, TypeVar

import pytest
from attrs import define, evolve

from ..blueprint import Blueprint
from ..errors import PublishError
from ..messages import ACK, IncomingMessage, OutgoingMessage, Settlement
from ..options import BrokerConfig, Options
from ..plugins import BrokerFactory
from ..serve import Service
POLL = 0.02
"""Seconds between two looks at a condition waited for."""
Scope = TypeVar("Scope", bound="BrokerScope")
Server = TypeVar("Server", bound="PrivateServer")


def unavailable(reason: str) -> NoReturn:
    """Skip the test for a missing server or tool; on CI (``CI=true``), where everything must run, fail it."""
    if os.environ.get("CI") == "true":
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)


def mark_tests_in(path: str, marker: pytest.MarkDecorator, items: list[pytest.Item]) -> None:
    """Mark the collected tests under the folder of ``path`` (a conftest's ``__file__``) with ``marker``."""
    folder = os.path.dirname(os.path.abspath(path)) + os.sep
    for item in items:
        if str(item.path).startswith(folder):
            item.add_marker(marker)


def wait_until(condition: Callable[[], bool], timeout: float, what: str | Callable[[], str]) -> None:
    """Look at ``condition`` until it holds; fail after ``timeout`` seconds naming ``what`` (or what
    ``what()`` says then)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what() if callable(what) else what}")
        time.sleep(POLL)


class Deliveries:
    """A ``deliver`` for a :class:`~spine_core.broker.Subscription`: records the value of each
    message it is given (from any thread) and acknowledges it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: list[bytes] = []

    def __call__(self, message: IncomingMessage) -> Settlement:
        with self._lock:
            self._values.append(message.value)
        return ACK

    @property
    def values(self) -> list[bytes]:
        """The values delivered so far, in the order they came."""
        with self._lock:
            return list(self._values)


def publishes(plugin: Any, topic: str, timeout: float = 2.0) -> bool:
    """Whether ``plugin`` publishes a message to ``topic`` now (``wait_until(lambda: publishes(...))``
    after a broker came back)."""
    try:
        plugin.spine_publish([OutgoingMessage(topic, b"after", "k")], timeout=timeout)
    except PublishError:
        return False
    return True


def logged(caplog: pytest.LogCaptureFixture, text: str) -> int:
    """How many captured log lines contain ``text``."""
    return sum(text in record.getMessage() for record in caplog.records)


class BrokerScope:
    """One test's names on a shared server: a topic prefix and a group id of its own, the plugins
    made by :meth:`plugin` and the services started by :meth:`start` (closed by :meth:`close`,
    or at the end of a ``with`` block). ``settings`` are the plugin's settings for the server.

    A broker that keeps more than its plugins clean up (queues, streams) subclasses it and
    extends :meth:`close`; :attr:`prefixes` holds every topic prefix the test used.
    """

    def __init__(self, broker: str, make: BrokerFactory, settings: Mapping[str, str]) -> None:
        run = uuid.uuid4().hex[:8]
        self.broker = broker
        self.settings = dict(settings)
        self.prefix = f"t{run}."
        self.group = f"g{run}"
        self.prefixes = {self.prefix}
        self.plugins: list[Any] = []
        self.services: list[Service] = []
        self._make = make

    def env(self, **extra: str) -> dict[str, str]:
        """``SPINE_*`` variables that put an unchanged app on this scope: the broker and its
        settings, the prefix and the group id, HTTP on a free port; ``extra`` wins."""
        scope = f"SPINE_{self.broker.upper()}_"
        settings = {scope + key.upper().replace(".", "_"): value for key, value in self.settings.items()}
        return {
            "SPINE_BROKER": self.broker, **settings, scope + "TOPIC_PREFIX": self.prefix,
            scope + "GROUP_ID": self.group, "SPINE_ADDRESS": "127.0.0.1:0", **extra,
        }

    def plugin(self, config: BrokerConfig) -> Any:
        """A plugin on this scope's server (settings of ``config`` win), closed with the scope."""
        plugin = self._make(evolve(config, settings={**self.settings, **config.settings}))
        self.prefixes.add(config.topic_prefix)
        self.plugins.append(plugin)
        return plugin

    def factory(self, **settings: str) -> Callable[[BrokerConfig], Any]:
        """Makes plugins like :meth:`plugin` with ``settings`` put over the configuration's (a
        server nobody listens on, one behind a proxy)."""
        return lambda config: self.plugin(evolve(config, settings={**config.settings, **settings}))

    def options(self, options: Options, **settings: str) -> Options:
        """``options`` moved onto this broker and scope (``settings`` over the scope's), HTTP on a free port."""
        broker = options.broker
        read = evolve(broker.read, group_id=self.group) if broker.read is not None else None
        broker = evolve(broker, name=self.broker, topic_prefix=self.prefix, read=read,
                        settings={self.broker: {**self.settings, **settings}})
        return evolve(options, address="127.0.0.1:0", broker=broker)

    def start(self, app: Blueprint, options: Options, **settings: str) -> Service:
        """Start ``app`` in this process on this scope (see :meth:`options`); stopped with the scope."""
        service = Service.of(app, self.options(options, **settings).with_env())
        self.services.append(service)
        self.plugins.append(service.runtime.broker)
        return service.start()

    def stop(self, service: Service, timeout: float) -> None:
        """Stop a service before the end of the test (``timeout=0``: as if it died mid-message)."""
        self.services.remove(service)
        service.stop(timeout=timeout)

    def close(self) -> None:
        """Stop the services, then close every plugin."""
        services, self.services = self.services, []
        for service in reversed(services):
            service.stop(timeout=5.0)
        for plugin in self.plugins:
            plugin.spine_broker_close(timeout=1.0)

    def __enter__(self: Scope) -> Scope:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def accepts(port: int) -> bool:
    """Whether something accepts TCP connections on ``127.0.0.1:port``."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


class PrivateServer:
    """A server process of one test's own on a free port (``{port}`` in ``command`` is replaced),
    ready once ``ready(port)`` holds (default: it accepts TCP connections). Started without
    persistence, stopping and starting it again is a restart that lost everything."""

    def __init__(self, command: Sequence[str], *, ready: Callable[[int], bool] = accepts,
                 start_timeout: float = 10.0) -> None:
        self.port = free_port()
        self.command = [part.replace("{port}", str(self.port)) for part in command]
        self._ready = ready
        self._start_timeout = start_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None

    def start(self) -> None:
        """Start the server (if it is not running) and wait until it is ready."""
        if self.proc is not None:
            return
        self.proc = subprocess.Popen(  # nosec B603 # the test's own command, no shell
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + self._start_timeout
        while not self._ready(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(f"{self.command[0]} did not start on port {self.port}")
            time.sleep(POLL)

    def stop(self) -> None:
        """Stop the server (if it runs)."""
        proc, self.proc = self.proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def __enter__(self: Server) -> Server:
        self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()


@define
class OutageSwitch:
    """The conformance suite's ``broker_outage``: plugins made by ``make_broker`` reach a server that
    ``down`` takes away and ``up`` brings back (each done once until the other: the suite may
    bring it back twice)."""

    make_broker: BrokerFactory
    _down: Callable[[], object]
    _up: Callable[[], object]
    is_down: bool = False

    def down(self) -> None:
        if not self.is_down:
            self.is_down = True
            self._down()

    def up(self) -> None:
        if self.is_down:
            self.is_down = False
            self._up()
