"""``./dev demo`` (``python -m apps.demo``) and ``python -m apps``: the port is a choice, a busy one fails at once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.demo import check_free

ROOT = Path(__file__).resolve().parent.parent


def free_port_pair() -> int:
    """A port ``p`` with ``p`` and ``p + 1`` free (the order and the stock service)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("", 0))
            port = int(a.getsockname()[1])
            with socket.socket() as b:
                try:
                    b.bind(("", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no two consecutive free ports")


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port some other program listens on (and the next one free, for the stock service)."""
    with socket.socket() as s:
        s.bind(("", free_port_pair()))
        s.listen()
        yield int(s.getsockname()[1])


def clean_env() -> dict[str, str]:
    """This process's environment without SPINE_* variables."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}


def run(args: list[str], env: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, str, float]:
    """Run ``python args`` in the repository; exit status, output, seconds taken."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env={**clean_env(), **(env or {})},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout,
    )
    return done.returncode, done.stdout, time.monotonic() - started


def test_demo_honours_spine_address() -> None:
    port = free_port_pair()
    code, out, _ = run(["-m", "apps.demo"], {"SPINE_ADDRESS": f":{port}"})
    assert code == 0, out
    assert f"listening on http://0.0.0.0:{port}" in out
    assert f"listening on http://0.0.0.0:{port + 1}" in out
    lines = out.splitlines()
    assert f"$ curl -X POST http://localhost:{port}/orders/12345" in lines and "200 OK" in lines
    assert "OrderID: 12345" in out


def test_demo_on_a_busy_port_fails_at_once_in_one_line(busy_port: int) -> None:
    code, out, took = run(["-m", "apps.demo", "--port", str(busy_port)])
    assert code == 1, out
    assert out.strip().splitlines() == [
        f"demo failed: port {busy_port} is not available (Address already in use); "
        "choose another with ./dev demo --port N (or SPINE_ADDRESS=:N)"
    ]
    assert took < 10


def test_services_on_a_busy_port_stop_at_once_in_one_line(busy_port: int) -> None:
    """``python -m apps`` itself: no OSError traceback, exit status 2."""
    code, out, took = run(["-m", "apps"], {"SPINE_ADDRESS": f":{busy_port}"})
    assert code == 2, out
    assert "Traceback" not in out
    [error] = [line for line in out.splitlines() if "ERROR" in line]
    assert error.endswith(f"cannot start: cannot listen on :{busy_port}: Address already in use")
    assert took < 10


def test_a_port_left_in_time_wait_is_free_for_the_demo() -> None:
    """A port whose last connection is in TIME-WAIT (a previous run's) passes the demo's free-port check."""
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = int(listener.getsockname()[1])
        client = socket.create_connection(("127.0.0.1", port))
        served, _ = listener.accept()
        served.close()  # the server side closes first, so its end of the connection waits in TIME-WAIT
        assert client.recv(1) == b""
        client.close()
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("", port))  # without SO_REUSEADDR the port still looks taken
    check_free(port)
