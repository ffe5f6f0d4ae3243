"""Request bodies for the HTTP tests: urlencoded and multipart forms."""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from falcon.testing import create_environ

BOUNDARY = "spine-test-boundary"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def urlencoded(fields: Iterable[tuple[str, str]]) -> str:
    return urlencode(list(fields))


def multipart(
    fields: Iterable[tuple[str, str]] = (), files: Iterable[tuple[str, str, str, bytes]] = ()
) -> bytes:
    """``fields`` as (name, value); ``files`` as (field, filename, content type, content)."""
    out = io.BytesIO()
    for name, value in fields:
        out.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value.encode() + b"\r\n")
    for field, filename, content_type, content in files:
        out.write(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
        )
        out.write(content + b"\r\n")
    out.write(f"--{BOUNDARY}--\r\n".encode())
    return out.getvalue()


class CountingInput(io.BytesIO):
    """A ``wsgi.input`` that records how many bytes the app read from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk

    def readline(self, size: int | None = -1) -> bytes:
        line = super().readline(size)
        self.consumed += len(line)
        return line


def call_wsgi(app: Any, path: str, body: bytes, headers: dict[str, str]) -> tuple[str, bytes, int]:
    """POST to ``app`` directly with a counting input; returns (status line, body, bytes read)."""
    stream = CountingInput(body)
    environ = create_environ(path=path, method="POST", headers=headers, body=b"")
    environ["wsgi.input"] = stream
    environ["CONTENT_LENGTH"] = str(len(body))
    captured: list[str] = []
    chunks = app(environ, lambda status, _headers, *_: captured.append(status))
    return captured[0], b"".join(chunks), stream.consumed
