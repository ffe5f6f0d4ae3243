"""The README's install line tried as a user would: built wheels, a fresh virtualenv outside the
repository, one per Python that Requires-Python claims and the machine has.

``build_dists`` builds every ``spine_*`` distribution (sdist, then the wheel from the sdist) once;
``check_python`` then, in a fresh virtualenv of one interpreter, installs ``spine-core spine-kafka``
from those wheels (dependencies from the index, through pip's cache), and runs the seed on the
memory broker and on Kafka, a small in-memory test with Spine's pytest fixtures, and ``spine
plugins`` before and after installing the other distributions. The checks of several Pythons run
at once (``check_pythons``): they wait mostly on pip and on the services' output.
"""

from __future__ import annotations

import configparser
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from attrs import define, field
from packaging.specifiers import SpecifierSet

from spine_kafka.tansu import TANSU_CONSUMER_SETTINGS

ROOT = Path(__file__).resolve().parent.parent
INSTALL_LINE = ("spine-core", "spine-kafka")
"""The README's line: ``pip install spine-core spine-kafka``."""
DEADLINE = 60.0
"""Seconds a service gets to log an expected line (four Pythons share two cores)."""


def dist_folders() -> list[Path]:
    """Every distribution of the repository: the ``spine_*`` folders with a setup.cfg."""
    return sorted(p.parent for p in ROOT.glob("spine_*/setup.cfg"))


def setup_cfg(folder: Path) -> configparser.ConfigParser:
    config = configparser.ConfigParser(interpolation=None)
    config.read(folder / "setup.cfg")
    return config


def cfg_lines(config: configparser.ConfigParser, section: str, key: str) -> list[str]:
    """A multi-line setup.cfg value as its non-empty, non-comment lines."""
    lines = config.get(section, key, fallback="").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def brokers_of(folders: Sequence[Path]) -> dict[str, str]:
    """Broker plugin name -> distribution name, from the ``spine`` entry points the folders declare."""
    brokers = {}
    for folder in folders:
        config = setup_cfg(folder)
        for line in cfg_lines(config, "options.entry_points", "spine"):
            brokers[line.split("=")[0].strip()] = config.get("metadata", "name")
    return brokers


def build_dists(out: Path) -> list[Path]:
    """Build the sdist and the wheel (from the sdist) of every distribution into ``out``, from
    clean copies (the checkout keeps no build output); returns the files."""
    src = out.parent / "src"
    for folder in dist_folders():
        copy = src / folder.name
        shutil.copytree(folder, copy, ignore=shutil.ignore_patterns("*.egg-info", "build", "__pycache__"))
        run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(copy)], timeout=300)
    return sorted(out.iterdir())


def claimed_pythons() -> list[str]:
    """The ``3.X`` versions the distributions claim: their ``Programming Language :: Python :: 3.X``
    classifiers, within their Requires-Python."""
    claimed: set[str] = set()
    for folder in dist_folders():
        config = setup_cfg(folder)
        spec = SpecifierSet(config.get("options", "python_requires"))
        found = {m.group(1) for c in cfg_lines(config, "metadata", "classifiers")
                 if (m := re.fullmatch(r"Programming Language :: Python :: (3\.\d+)", c))}
        claimed |= {v for v in found if f"{v}.0" in spec}
    return sorted(claimed, key=lambda v: tuple(map(int, v.split("."))))


def requires_python() -> SpecifierSet:
    """The Requires-Python every distribution shares (the strictest, should they differ)."""
    spec = SpecifierSet()
    for folder in dist_folders():
        spec &= SpecifierSet(setup_cfg(folder).get("options", "python_requires"))
    return spec


def machine_pythons() -> dict[str, Path]:
    """``3.X`` -> an interpreter of that version on this machine: pyenv's (the newest patch release),
    else ``python3.X`` on PATH."""
    found: dict[str, Path] = {}
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for version in sorted(pyenv.glob("3.*"), key=lambda p: [int(x) for x in re.findall(r"\d+", p.name)]):
        if m := re.fullmatch(r"(3\.\d+)\.\d+", version.name):
            exe = version / "bin" / f"python{m.group(1)}"
            if exe.is_file():
                found[m.group(1)] = exe
    for minor in [f"3.{n}" for n in range(8, 20)]:
        if minor not in found and (which := shutil.which(f"python{minor}")):
            probe = subprocess.run([which, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                                   capture_output=True, text=True)
            if probe.returncode == 0 and probe.stdout.strip() == minor:
                found[minor] = Path(which)
    return found


def pythons_to_check() -> list[str]:
    """The versions claimed by the classifiers, and any other the machine has that Requires-Python admits."""
    spec = requires_python()
    versions = set(claimed_pythons()) | {v for v in machine_pythons() if f"{v}.0" in spec}
    return sorted(versions, key=lambda v: tuple(map(int, v.split("."))))


def run(args: Sequence[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 600) -> str:
    """Run a command; its output, or an AssertionError that shows it."""
    result = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{' '.join(args)} exited {result.returncode}:\n{result.stdout}{result.stderr}"
    return result.stdout


def user_env(**spine: str) -> dict[str, str]:
    """A user's environment: none of this checkout's ``SPINE_*`` or Python settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SPINE_", "PYTHON", "VIRTUAL_ENV", "PYTEST"))}
    return {**env, "PYTHONUNBUFFERED": "1", **spine}


class Service:
    """A service process of the fresh virtualenv; its output is collected so a check can wait for a line."""

    def __init__(self, args: Sequence[str], cwd: Path, env: dict[str, str]) -> None:
        self.args = args
        self.proc = subprocess.Popen(list(args), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.output = ""
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def wait_for(self, pattern: str) -> re.Match[str]:
        """The first match of ``pattern`` in the output, waited for up to DEADLINE seconds."""
        deadline = time.monotonic() + DEADLINE
        while (found := re.search(pattern, self.output)) is None:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                raise AssertionError(f"{' '.join(self.args)}: {pattern!r} not logged; output:\n{self.output}")
            self.output += line
        return found

    def stop(self) -> int:
        """SIGTERM, then the exit code (killed after DEADLINE)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(DEADLINE)
        finally:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def post_order(port: int) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/orders/12345", method="POST")
    with urllib.request.urlopen(request, timeout=DEADLINE) as response:
        return response.status, response.read()


def free_port_pair() -> int:
    """A port ``p`` with ``p`` and ``p + 1`` free (``python -m apps`` puts the stock service on p + 1)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port + 1))
                return port
            except OSError:
                continue


IN_MEMORY_TEST = '''\
"""A user's in-memory test of the seed, on the fixtures spine-memory gives pytest."""

import logging

from apps import order_app, stock_app


def test_order_reaches_stock(spine_app, caplog):
    """The order service answers OK and the stock service logs the order, on one memory broker."""
    stock = spine_app(stock_app.create_app(), stock_app.options())
    orders = spine_app(order_app.create_app(), order_app.options())
    with caplog.at_level(logging.INFO, logger="stock"):
        assert orders.client.simulate_post("/orders/12345").text == "OK"
        orders.broker.drain()
    assert [r.getMessage() for r in caplog.records if r.name == "stock"] == [
        "Kafka Event: order.created", "OrderID: 12345"]
'''


def user_project(path: Path) -> Path:
    """A user's project outside the repository: the seed apps and one test file."""
    apps = path / "apps"
    shutil.copytree(ROOT / "apps", apps, ignore=shutil.ignore_patterns("__pycache__", "demo.py", "http_example"))
    (path / "test_orders.py").write_text(IN_MEMORY_TEST)
    return path


@define
class Report:
    """What one Python's check found, step by step, and how long each step took."""

    python: str
    plugins_after_line: list[str] = field(factory=list)
    plugins_after_all: list[str] = field(factory=list)
    seconds: dict[str, float] = field(factory=dict)

    def step(self, name: str, action: Callable[[], object]) -> None:
        started = time.monotonic()
        action()
        self.seconds[name] = round(time.monotonic() - started, 1)


def plugin_names(spine: Path, cwd: Path) -> list[str]:
    """The NAME column of ``spine plugins``."""
    lines = run([str(spine), "plugins"], cwd=cwd, env=user_env()).splitlines()
    return sorted(line.split()[0] for line in lines[1:] if line.strip() and not set(line) <= {"-", " "})


def check_python(minor: str, interpreter: Path, wheels: Path, work: Path, bootstrap: str) -> Report:
    """The whole check on one interpreter (see the module's docstring); raises AssertionError on a failure."""
    report = Report(minor)
    venv, project = work / "venv", user_project(work / "project")
    bin_ = venv / "bin"
    pip = [str(bin_ / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
           "--find-links", str(wheels)]
    env = user_env()
    report.step("venv", lambda: run([str(interpreter), "-m", "venv", str(venv)], env=env))
    report.step("install line", lambda: run([*pip, *INSTALL_LINE], cwd=project, env=env))
    report.plugins_after_line = plugin_names(bin_ / "spine", project)
    report.step("memory seed", lambda: memory_seed(bin_ / "python", project))
    report.step("kafka seed", lambda: kafka_seed(bin_ / "python", project, bootstrap))
    report.step("pytest", lambda: run([*pip, "pytest"], cwd=project, env=env))
    report.step("in-memory test", lambda: in_memory_test(bin_ / "python", project))
    others = sorted({setup_cfg(f).get("metadata", "name") for f in dist_folders()} - set(INSTALL_LINE))
    report.step("other dists", lambda: run([*pip, *others], cwd=project, env=env))
    report.plugins_after_all = plugin_names(bin_ / "spine", project)
    return report


def memory_seed(python: Path, project: Path) -> None:
    """``SPINE_BROKER=memory``: both seed services in one process answer and log the order."""
    port = free_port_pair()
    services = Service([str(python), "-m", "apps"], project,
                       user_env(SPINE_BROKER="memory", SPINE_ADDRESS=f"127.0.0.1:{port}"))
    try:
        services.wait_for(rf"listening on http://127\.0\.0\.1:{port}\b")
        assert post_order(port) == (200, b"OK")
        services.wait_for("Kafka Event: order.created")
        services.wait_for("OrderID: 12345")
        assert services.stop() == 0, services.output
    finally:
        services.kill()


def kafka_seed(python: Path, project: Path, bootstrap: str) -> None:
    """``SPINE_BROKER=kafka``: the seed as two processes on the test's Kafka-protocol broker."""
    prefix = f"wheels-{uuid.uuid4().hex[:8]}."
    fast = {"SPINE_KAFKA_" + k.upper().replace(".", "_"): v for k, v in TANSU_CONSUMER_SETTINGS.items()}
    env = user_env(SPINE_BROKER="kafka", SPINE_KAFKA_BOOTSTRAP_SERVERS=bootstrap, SPINE_KAFKA_TOPIC_PREFIX=prefix,
                   SPINE_KAFKA_GROUP_ID=prefix + "stock", SPINE_ADDRESS="127.0.0.1:0", **fast)
    stock = Service([str(python), "-m", "apps.stock_app"], project, env)
    orders = Service([str(python), "-m", "apps.order_app"], project, env)
    try:
        stock.wait_for(rf"assigned .*{re.escape(prefix)}order\.created")
        port = int(orders.wait_for(r"listening on http://127\.0\.0\.1:(\d+)").group(1))
        assert post_order(port) == (200, b"OK")
        stock.wait_for("Kafka Event: order.created")
        stock.wait_for("OrderID: 12345")
        assert orders.stop() == 0, orders.output
        assert stock.stop() == 0, stock.output
    finally:
        orders.kill()
        stock.kill()


def in_memory_test(python: Path, project: Path) -> None:
    """pytest finds Spine's fixtures through the entry point (no conftest) and the test passes."""
    output = run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_orders.py"],
                 cwd=project, env=user_env())
    assert "1 passed" in output, output


def check_pythons(pythons: dict[str, Path], wheels: Path, work: Path,
                  bootstrap: str) -> dict[str, Report | BaseException]:
    """``check_python`` on every interpreter at once; each one's report, or what it failed with."""
    def one(minor: str) -> Report | BaseException:
        try:
            return check_python(minor, pythons[minor], wheels, work / minor, bootstrap)
        except BaseException as e:  # handed to that Python's test
            return e

    with ThreadPoolExecutor(max_workers=max(1, len(pythons))) as pool:
        return dict(zip(pythons, pool.map(one, pythons)))
