"""The repository's side of the broker test kit (the plugin's side is :mod:`spine_core.testing.kit`):
the seed's ``apps/`` run unchanged as service processes over any broker plugin of this
repository, the seed scenario, a stock service killed mid-stream, and a plugin installed alone.

A broker's tests call these with its own environment (``BrokerScope.env()``)::

    def test_seed_scenario_over_nats(scope, processes):
        seed_scenario(processes, scope.env(), ready="consuming")
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from apps.events import OrderCreated
from spine_core.broker import BrokerConfig, WriteOptions
from spine_core.testing import to_message
from test_packaging import Venv, runtime_modules

ROOT = Path(__file__).resolve().parent.parent
ORDER_ID = re.compile(r"OrderID: (\d+)")
DEADLINE = 30.0


class ServiceProcess:
    """``python <args>`` from the repository's root (``-m apps.stock_app``), with ``env`` over this
    process's environment without its ``SPINE_*`` variables; ``lines`` holds what it logged so far."""

    def __init__(self, args: Sequence[str], env: dict[str, str]) -> None:
        self.args = list(args)
        self.lines: list[str] = []
        self._cond = threading.Condition()
        base = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
        self.proc = subprocess.Popen(
            [sys.executable, *self.args], cwd=ROOT, stdin=subprocess.DEVNULL,
            env={**base, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **env},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    @property
    def output(self) -> str:
        """Everything logged so far."""
        with self._cond:
            return "\n".join(self.lines)

    def wait_for(self, pattern: str, timeout: float = DEADLINE) -> re.Match[str]:
        """The first logged line matching ``pattern``; fails if none within ``timeout`` or the process ended."""
        regex = re.compile(pattern)

        def found() -> re.Match[str] | None:
            return next((m for line in self.lines if (m := regex.search(line))), None)

        with self._cond:
            self._cond.wait_for(lambda: found() is not None or not self._pump.is_alive(), timeout)
            match = found()
        if match is None:
            raise AssertionError(f"{' '.join(self.args)} did not log {pattern!r} within {timeout}s:\n{self.output}")
        return match

    def wait_lines(self, predicate: Callable[[list[str]], bool], timeout: float) -> bool:
        """Wait until ``predicate(lines)`` holds (True), or ``timeout`` passed or the process ended."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self.lines) or not self._pump.is_alive(), timeout) \
                and predicate(self.lines)

    def port(self, timeout: float = DEADLINE) -> int:
        """The HTTP port it logged it listens on."""
        return int(self.wait_for(r"listening on http://[^:]+:(\d+)", timeout).group(1))

    def terminate(self, timeout: float = DEADLINE) -> int:
        """SIGTERM (a graceful shutdown) and the exit code; killed if it is not over within ``timeout``."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        finally:
            self.kill()

    def kill(self) -> None:
        """SIGKILL, if it still runs (a crash); what it logged stays in :attr:`lines`."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._pump.join(10)
        if self.proc.stdout is not None and not self._pump.is_alive():
            self.proc.stdout.close()

    close = kill


@pytest.fixture
def processes() -> Iterator[list[ServiceProcess]]:
    """Service processes a test starts (``processes.append(...)``), killed after it."""
    started: list[ServiceProcess] = []
    yield started
    for process in started:
        process.close()


def start(processes: list[ServiceProcess], module: str, env: dict[str, str]) -> ServiceProcess:
    """``python -m module`` with ``env``, closed after the test."""
    process = ServiceProcess(["-m", module], env)
    processes.append(process)
    return process


class OrderIds:
    """Order ids a stock service logged as handled, read incrementally from its growing log."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self._read = 0

    def __call__(self, lines: list[str]) -> set[int]:
        self.ids.update(int(m.group(1)) for line in lines[self._read:] if (m := ORDER_ID.search(line)))
        self._read = len(lines)
        return self.ids


def seed_scenario(processes: list[ServiceProcess], env: dict[str, str], *, ready: str,
                  stock_env: dict[str, str] | None = None, order_env: dict[str, str] | None = None) -> None:
    """The seed as two processes (``env``, and each service's own over it): once the stock service
    logged ``ready`` (its consumer runs), ``POST /orders/12345`` answers OK, the stock service logs
    the seed's two lines, both exit 0."""
    stock = start(processes, "apps.stock_app", {**env, **(stock_env or {})})
    stock.wait_for(ready, DEADLINE)
    order = start(processes, "apps.order_app", {**env, **(order_env or {})})
    url = f"http://127.0.0.1:{order.port()}/orders/12345"
    with urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=15) as response:
        assert (response.status, response.read()) == (200, b"OK")
    stock.wait_for("Kafka Event: order.created", 10)
    stock.wait_for("OrderID: 12345", 10)
    assert order.terminate() == 0
    assert stock.terminate() == 0


def killed_mid_stream(processes: list[ServiceProcess], env: dict[str, str], publisher: Any, prefix: str, *,
                      ready: str, after_kill: Callable[[], None] = lambda: None, total: int = 3000) -> None:
    """SIGKILL a stock service while it works through ``total`` orders (published by the plugin
    ``publisher``), start another: every order is handled at least once, and the second exits 0.
    ``after_kill`` looks at the broker while no member runs."""
    first = start(processes, "apps.stock_app", env)
    first.wait_for(ready, DEADLINE)
    now = datetime.now(timezone.utc)
    for first_id in range(0, total, 250):
        batch = [to_message(OrderCreated(i, now), prefix, "kill-test") for i in range(first_id, first_id + 250)]
        publisher.spine_publish(messages=batch, timeout=10.0)
    first_ids, second_ids = OrderIds(), OrderIds()
    assert first.wait_lines(lambda lines: len(first_ids(lines)) >= total // 10, 20), "the consumer did not start"
    first.kill()
    before = set(first_ids(first.lines))
    assert len(before) < total, "the kill did not land mid-stream"
    after_kill()
    second = start(processes, "apps.stock_app", env)
    second.wait_lines(lambda lines: len(before | second_ids(lines)) == total, 60)
    missing = set(range(total)) - before - second_ids(second.lines)
    assert not missing, f"{len(missing)} order(s) never handled, e.g. {sorted(missing)[:10]}"
    assert second.terminate() == 0


def publishing_plugin(make: Callable[[BrokerConfig], Any], name: str, prefix: str) -> Any:
    """A started plugin that only publishes (to topics under ``prefix``)."""
    plugin = make(BrokerConfig(name=name, topic_prefix=prefix, write=WriteOptions()))
    start = getattr(plugin, "spine_broker_start", None)  # an optional hook
    if start is not None:
        start()
    return plugin


INSTALLED = """
    import attrs, json, pathlib
    import {package}
    from spine_core import BrokerOptions, Options, Spine
    from spine_core.plugins import installed
    runtime = Spine().runtime(Options(http=None, broker=BrokerOptions(name={name!r})))
    print(json.dumps({{
        "file": {package}.__file__,
        "py_typed": (pathlib.Path({package}.__file__).parent / "py.typed").is_file(),
        "brokers": sorted(installed()),
        "plugin": type(runtime.broker).__name__,
        "settings": attrs.asdict(runtime.broker.settings),
    }}, default=str))
"""


def installed_alone(dist: str, name: str, tmp_path: Path) -> dict[str, Any]:
    """Install spine-core and the plugin's dist (``spine_redis``) alone into a fresh venv, boot a
    ``SPINE_BROKER=<name>`` runtime there and report: the plugin's class and default settings. The
    package must come from the venv, ship ``py.typed`` and be the only broker found."""
    venv = Venv(tmp_path / "venv")
    deps = venv.path / "deps"
    for module in runtime_modules([dist]):  # the client library, linked from this interpreter
        spec = importlib.util.find_spec(module)
        assert spec is not None and spec.origin is not None, f"{module} is not installed"
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        if not (deps / source.name).exists():
            (deps / source.name).symlink_to(source)
    for each in ("spine_core", dist):
        venv.install(each, tmp_path)
    report: dict[str, Any] = json.loads(venv.run(INSTALLED.format(package=dist, name=name)))
    assert report["file"].startswith(str(venv.path)) and report["py_typed"]
    assert report["brokers"] == [name]
    return report
