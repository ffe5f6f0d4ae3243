"""TLS for the broker and database tests: a certificate authority of the test's own (trustme), and a
TLS-terminating proxy for servers that speak plaintext (Tansu; the machine's RabbitMQ node).

Each TLS test makes a :class:`Certificates`: a CA, a server certificate for ``localhost`` and
``127.0.0.1``, a client certificate (mutual TLS), and a second CA that signed none of them (the
wrong CA), as PEM files in a temporary directory.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from pathlib import Path
from typing import Any

import trustme

from spine_core.testing import free_port


class Certificates:
    """PEM files under ``directory``: ``ca``, ``server_cert``/``server_key``, ``client_cert``/``client_key``,
    and ``wrong_ca`` (a CA that signed nothing here)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        authority, wrong = trustme.CA(), trustme.CA()
        server = authority.issue_cert("localhost", "127.0.0.1")
        client = authority.issue_cert("spine-client@example.com")
        self.ca = directory / "ca.pem"
        self.wrong_ca = directory / "wrong-ca.pem"
        self.server_cert = directory / "server.pem"
        self.server_key = directory / "server.key"
        self.client_cert = directory / "client.pem"
        self.client_key = directory / "client.key"
        authority.cert_pem.write_to_path(str(self.ca))
        wrong.cert_pem.write_to_path(str(self.wrong_ca))
        server.private_key_pem.write_to_path(str(self.server_key))
        client.private_key_pem.write_to_path(str(self.client_key))
        self.server_cert.write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
        self.client_cert.write_bytes(b"".join(blob.bytes() for blob in client.cert_chain_pems))
        for key in (self.server_key, self.client_key):
            key.chmod(0o600)

    def server_context(self, *, client_certificates: bool = True) -> ssl.SSLContext:
        """A server side that asks for (and verifies) client certificates unless told not to."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.server_cert, self.server_key)
        if client_certificates:
            context.load_verify_locations(self.ca)
            context.verify_mode = ssl.CERT_REQUIRED
        return context


class TLSProxy:
    """Accepts TLS on ``127.0.0.1:port`` (mutual TLS by default) and relays the plaintext to
    ``upstream``, in a thread of its own; a handshake that fails closes that connection."""

    def __init__(self, upstream: tuple[str, int], context: ssl.SSLContext, port: int | None = None) -> None:
        self.upstream = upstream
        self.port = port or free_port()
        self._context = context
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._server: Any = None
        self._thread = threading.Thread(target=self._run, name="tls-proxy", daemon=True)

    def __enter__(self) -> TLSProxy:
        self._thread.start()
        if not self._started.wait(5.0):
            raise AssertionError("the TLS proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5.0)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._relay, "127.0.0.1", self.port, ssl=self._context))
        self._started.set()
        try:
            self._loop.run_forever()
        finally:
            self._server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.run_until_complete(asyncio.sleep(0))
            self._loop.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
