"""The HTTP surface behind waitress and granian: chunked uploads, the 413, and a preflight over a socket."""

from __future__ import annotations

import hashlib
import http.client
import json
from collections.abc import Iterator

import pytest
from attrs import evolve

from apps.http_example import BROWSER_APP, create_app, options
from spine_core import Service
from spine_core.options import BrokerConfig
from spine_memory import MemoryBroker
from spine_memory.plugin import MemoryPlugin

from .support import MULTIPART, multipart

SERVERS = ("waitress", "granian")

LIMIT = 1024 * 1024


@pytest.fixture(params=SERVERS)
def port(request: pytest.FixtureRequest) -> Iterator[int]:
    opts = options()
    assert opts.http is not None
    opts = evolve(opts, address="127.0.0.1:0", http=evolve(opts.http, max_upload_size=LIMIT, server=request.param))
    service: Service = create_app().start(opts, broker=MemoryPlugin(BrokerConfig.from_options(opts), MemoryBroker()))
    try:
        assert service.port is not None
        yield service.port
    finally:
        service.stop(timeout=2.0)


def send(port: int, method: str, path: str, body: bytes | Iterator[bytes] | None = None,
         headers: dict[str, str] | None = None, chunked: bool = False) -> tuple[int, http.client.HTTPMessage, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {}, encode_chunked=chunked)
        response = conn.getresponse()
        return response.status, response.headers, response.read()  # case-insensitive: granian sends lower case
    finally:
        conn.close()


def test_a_chunked_upload_is_received_whole(port: int) -> None:
    """Without Content-Length (chunked transfer), the file arrives intact."""
    content = bytes(range(256)) * 1200
    body = multipart(files=[("doc", "doc.bin", "application/octet-stream", content)])
    chunks = (body[i:i + 16384] for i in range(0, len(body), 16384))
    status, _, payload = send(port, "POST", "/files", chunks, {**MULTIPART, "Transfer-Encoding": "chunked"}, True)
    assert status == 200
    (info,) = json.loads(payload)
    assert (info["size"], info["sha256"]) == (len(content), hashlib.sha256(content).hexdigest())


def test_an_oversized_upload_is_a_413_over_the_wire(port: int, request: pytest.FixtureRequest) -> None:
    """Refused by its Content-Length: waitress answers before any of the body is sent (a client
    that sent it all regardless could see the connection reset before it reads the answer);
    granian reads and drops the body of a refused request, so the client sends it."""
    body = multipart(files=[("doc", "doc.bin", "application/octet-stream", b"z" * LIMIT)])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("POST", "/files")
        for name, value in {**MULTIPART, "Content-Length": str(len(body))}.items():
            conn.putheader(name, value)
        conn.endheaders()
        if request.node.callspec.params["port"] == "granian":
            conn.send(body)
        response = conn.getresponse()
        status, payload = response.status, response.read()
    finally:
        conn.close()
    assert status == 413
    assert json.loads(payload)["message"].endswith(f"exceeds the limit of {LIMIT} bytes")


def test_an_oversized_chunked_upload_is_a_413_over_the_wire(port: int) -> None:
    """Without Content-Length the limit still holds (granian: while buffering; waitress: after)."""
    body = multipart(files=[("doc", "doc.bin", "application/octet-stream", b"z" * 2 * LIMIT)])
    chunks = (body[i:i + 16384] for i in range(0, len(body), 16384))
    status, _, payload = send(port, "POST", "/files", chunks, {**MULTIPART, "Transfer-Encoding": "chunked"}, True)
    assert status == 413
    assert json.loads(payload)["message"].endswith(f"exceeds the limit of {LIMIT} bytes")


def test_a_preflight_over_the_wire(port: int) -> None:
    headers = {"Origin": BROWSER_APP, "Access-Control-Request-Method": "POST"}
    status, answer, _ = send(port, "OPTIONS", "/signup", headers=headers)
    assert status == 204
    assert answer["Access-Control-Allow-Origin"] == BROWSER_APP
