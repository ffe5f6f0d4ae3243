"""The ``spine`` command: listings, errors with exit status 2, help, and ``spine run`` as a process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from spine_core.cli import cli

from . import sample

ROOT = Path(__file__).resolve().parents[2]
APP = f"{sample.__name__}:create_app"


def spine(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"SPINE_BROKER": None, "SPINE_MEMORY_TOPIC_PREFIX": None})
    return result.exit_code, result.output


def test_console_script_is_declared() -> None:
    """``spine`` is a console script of spine-core pointing at the click group's entry point."""
    [script] = entry_points(group="console_scripts", name="spine")
    assert script.value == "spine_core.cli:main"
    assert script.dist is not None and script.dist.name == "spine-core"


def test_routes_lists_method_prefixed_path_handler_and_interceptors() -> None:
    """The global prefix from the module's ``options`` is applied; interceptors are named."""
    code, out = spine("routes", f"{sample.__name__}:guarded_app")
    assert code == 0, out
    assert out.splitlines() == [
        "METHOD  PATH           HANDLER                INTERCEPTORS",
        "POST    /api/pings/:n  PingController.create  DenyAll",
    ]


def test_consumers_lists_prefixed_topic_group_and_handler() -> None:
    code, out = spine("consumers", APP)
    assert code == 0, out
    header, row = ["TOPIC", "GROUP", "HANDLER", "INTERCEPTORS"], ["t.ping", "pingers", "PingConsumer.on_ping", "-"]
    assert out.split() == header + row


def test_options_flag_and_env_are_applied() -> None:
    """``--options`` replaces the module's options; the SPINE_* environment applies over them."""
    code, out = spine("routes", APP, "--options", "spine_core:Options")
    assert code == 0 and "/pings/:n" in out and "/api" not in out
    result = CliRunner().invoke(cli, ["consumers", APP], env={"SPINE_MEMORY_TOPIC_PREFIX": "prod."})
    assert "prod.ping" in result.output


def test_bare_module_uses_its_app_attribute() -> None:
    code, out = spine("consumers", sample.__name__)
    assert code == 0 and "t.ping" in out


def test_plugins_lists_entry_points_with_distribution_and_version() -> None:
    code, out = spine("plugins")
    assert code == 0
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    assert rows["memory"][1:] == ["spine-memory", "0.1.0", "spine_memory.plugin:MemoryPlugin"]


@pytest.mark.parametrize(("target", "message"), [
    ("no_such_module_xyz:app", "no module named 'no_such_module_xyz'"),
    (f"{sample.__name__}:missing", "has no attribute 'missing'"),
    (f"{sample.__name__}:not_an_app", "is not a Spine app nor a function returning one (it is int)"),
    (f"{sample.__name__}:wrong_kind", "wrong_kind() returned Options, not a Spine app"),
    (f"{sample.__name__}:Ping", "is the class Ping, not a Spine app nor a function returning one"),
    (f"{sample.__name__}:broken", "broken() failed: RuntimeError: factory exploded"),
    (f"{sample.__name__}:", "is not MODULE:ATTR"),
    ("spine_core.options", "has none of app, create_app"),
])
@pytest.mark.parametrize("command", ["run", "routes", "consumers"])
def test_bad_target_is_a_usage_error(command: str, target: str, message: str) -> None:
    """Exit status 2 and a one-line reason, no traceback."""
    code, out = spine(command, target)
    assert code == 2
    assert message in out
    assert "Traceback" not in out


def test_bad_options_reference_is_a_usage_error() -> None:
    code, out = spine("routes", APP, "--options", f"{sample.__name__}:create_app")
    assert code == 2 and "create_app() returned Spine, not an Options" in out


def test_bad_environment_is_an_error_not_a_traceback() -> None:
    result = CliRunner().invoke(cli, ["routes", APP], env={"SPINE_METRICS": "maybe"})
    assert result.exit_code == 1
    assert "SPINE_METRICS must be true or false (or 1/0, yes/no, on/off), got 'maybe'" in result.output


@pytest.mark.parametrize("args", [[], ["run"], ["routes"], ["consumers"], ["plugins"]])
def test_help_everywhere(args: list[str]) -> None:
    code, out = spine(*args, "--help")
    assert code == 0 and out.startswith("Usage: spine")


@pytest.mark.parametrize("server", ["waitress", "granian"])
def test_run_serves_like_python_m_and_stops_on_sigterm(server: str) -> None:
    """``spine run apps.order_app:create_app`` with ``--broker``/``--address``/``--server`` overrides:
    JSON log lines, the seed route, health and metrics endpoints; SIGTERM exits 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    env.update(PYTHONUNBUFFERED="1", SPINE_LOG_FORMAT="json", SPINE_ADDRESS="127.0.0.1:1", SPINE_BROKER="kafka")
    proc = subprocess.Popen(
        [sys.executable, "-m", "spine_core.cli", "run", "apps.order_app:create_app",
         "--broker", "memory", "--address", "127.0.0.1:0", "--server", server],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        assert first["level"] == "INFO" and first["logger"] == "spine", first
        assert first["message"].startswith(f"{server} listening on"), first
        port = int(first["message"].rsplit(":", 1)[1])
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(urllib.request.Request(f"{base}/orders/12345", method="POST"), timeout=10) as r:
            assert (r.status, r.read()) == (200, b"OK")
        with urllib.request.urlopen(f"{base}/health/ready", timeout=10) as r:
            assert json.load(r)["status"] == "ready"
        with urllib.request.urlopen(f"{base}/metrics", timeout=10) as r:
            text = r.read().decode()
        assert 'spine_http_requests_total{method="POST",route="/orders/:order_id",status="200"} 1.0' in text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        rest = [json.loads(line) for line in proc.stdout.read().splitlines()]
        assert [e["message"] for e in rest][-2:] == ["SIGTERM received: shutting down", "stopped"]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_run_on_a_busy_port_exits_2_in_one_line_like_spine_run() -> None:
    """``spine run`` on a port another program listens on logs one ``cannot start`` line and exits 2, as Spine.run."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "spine_core.cli", "run", "apps.order_app:create_app",
             "--broker", "memory", "--address", f"127.0.0.1:{port}"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 2, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    [error] = [line for line in output.splitlines() if "ERROR" in line]
    assert error.endswith(f"cannot start: cannot listen on 127.0.0.1:{port}: Address already in use")
