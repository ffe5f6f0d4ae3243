"""TLS to NATS, for real: a certificate authority and a server certificate of the test's own (openssl),
a private ``nats-server -js --tls`` on a free port; the plugin publishes and consumes over ``tls://``
with ``tls.ca``, and with another CA it is refused."""

from __future__ import annotations

import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import pytest

from spine_core.errors import PublishError
from spine_core.messages import IncomingMessage, OutgoingMessage
from spine_core.options import BrokerConfig, WriteOptions
from spine_core.testing import Features, Harness, PrivateServer, Received, Recorder, Sample, unavailable

from .conftest import NatsScope


def certificate_authority(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed CA: its certificate and key."""
    cert, key = folder / f"{name}.pem", folder / f"{name}-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def server_certificate(folder: Path, ca: tuple[Path, Path]) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 signed by ``ca``: its certificate and key."""
    cert, key, request = folder / "server.pem", folder / "server-key.pem", folder / "server.csr"
    extensions = folder / "san.cnf"
    extensions.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
                    "-keyout", str(key), "-out", str(request)], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", str(request), "-CA", str(ca[0]), "-CAkey", str(ca[1]),
                    "-CAcreateserial", "-days", "2", "-extfile", str(extensions), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def test_publish_and_consume_over_tls_and_refuse_another_ca(scope: NatsScope, tmp_path: Path) -> None:
    """With the server's CA the event goes through over TLS; with another CA the plugin is not ready
    and says why, and publishing fails."""
    if shutil.which("openssl") is None or shutil.which("nats-server") is None:
        unavailable("openssl and nats-server are needed for the NATS TLS test")
    ca = certificate_authority(tmp_path, "ca")
    other_ca = certificate_authority(tmp_path, "other-ca")
    cert, key = server_certificate(tmp_path, ca)
    command = ["nats-server", "-js", "-a", "127.0.0.1", "-p", "{port}", "-sd", str(tmp_path / "store"),
               "--tls", "--tlscert", str(cert), "--tlskey", str(key)]
    with PrivateServer(command) as server:
        url = f"tls://127.0.0.1:{server.port}"
        harness = Harness(scope.factory(url=url, **{"tls.ca": str(ca[0])}), Features())
        received = Recorder()

        def record(event: Sample, message: IncomingMessage) -> None:
            received.add(Received(event, dict(message.headers), "a"))

        try:
            harness.consume(harness.broker("tls"), "tls", record)
            harness.publish(harness.broker(), [Sample(1, "k", datetime.now(timezone.utc))])
            received.wait_for(lambda items: len(items) == 1, 10, "the event over TLS")
        finally:
            harness.close_all()

        wrong = scope.plugin(BrokerConfig(name="nats", write=WriteOptions(), settings={
            "url": url, "tls.ca": str(other_ca[0])}))
        wrong.spine_broker_start()
        health = wrong.spine_broker_health()
        assert not health.ready and "CERTIFICATE_VERIFY_FAILED" in health.detail, health
        with pytest.raises(PublishError, match="unreachable"):
            wrong.spine_publish(messages=[OutgoingMessage(scope.prefix + "tls", b"x")], timeout=1.0)
