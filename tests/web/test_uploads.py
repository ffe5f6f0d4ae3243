"""Uploaded files: every file with its metadata, streamed, bounded by ``max_upload_size``."""

from __future__ import annotations

import hashlib

import pytest
from falcon.testing import TestClient

from apps.http_example import create_app, options
from spine_core import HTTPOptions, Options, Spine, UploadedFile
from spine_memory.pytest_plugin import SpineAppFactory

from .support import FORM, MULTIPART, call_wsgi, multipart, urlencoded

LIMIT = options().http.max_upload_size  # type: ignore[union-attr]


@pytest.fixture
def client(spine_app: SpineAppFactory) -> TestClient:
    return spine_app(create_app(), options()).client


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_every_file_comes_with_field_name_type_and_size(client: TestClient) -> None:
    """Two files in two fields, and a text field that is not a file."""
    photo, notes = b"\x89PNG" + bytes(range(256)) * 10, b"line 1\nline 2\n"
    body = multipart(
        [("comment", "not a file")],
        [("photo", "cat.png", "image/png", photo), ("notes", "notes.txt", "text/plain", notes)],
    )
    result = client.simulate_post("/files", body=body, headers=MULTIPART)
    assert result.status_code == 200
    assert result.json == [
        {"field": "photo", "filename": "cat.png", "content_type": "image/png", "size": len(photo),
         "sha256": sha(photo)},
        {"field": "notes", "filename": "notes.txt", "content_type": "text/plain", "size": len(notes),
         "sha256": sha(notes)},
    ]


def test_several_files_in_one_field_are_all_given(client: TestClient) -> None:
    body = multipart(files=[("docs", f"{i}.bin", "application/octet-stream", bytes([i]) * i) for i in (1, 2, 3)])
    result = client.simulate_post("/files", body=body, headers=MULTIPART)
    assert [(f["filename"], f["size"]) for f in result.json] == [("1.bin", 1), ("2.bin", 2), ("3.bin", 3)]


def test_a_urlencoded_form_has_no_files(client: TestClient) -> None:
    assert client.simulate_post("/files", body=urlencoded([("a", "1")]), headers=FORM).json == []


def test_one_file_by_field_name(client: TestClient) -> None:
    """An ``UploadedFile`` parameter gets the file sent under its own name."""
    body = multipart(files=[("avatar", "me.jpg", "image/jpeg", b"jpeg bytes")])
    result = client.simulate_put("/avatar", body=body, headers=MULTIPART)
    assert result.json["filename"] == "me.jpg"
    assert result.json["sha256"] == sha(b"jpeg bytes")


@pytest.mark.parametrize("count", [0, 2])
def test_one_file_parameter_wants_exactly_one_file(client: TestClient, count: int) -> None:
    body = multipart(files=[("avatar", "me.jpg", "image/jpeg", b"x")] * count)
    result = client.simulate_put("/avatar", body=body, headers=MULTIPART)
    assert result.status_code == 400
    assert result.json == {"message": f"form field 'avatar' must hold exactly one file, got {count}"}


def test_an_oversized_upload_is_a_413_and_is_not_read(spine_app: SpineAppFactory) -> None:
    """A body over the limit is refused from its Content-Length: the app reads none of it."""
    wsgi = spine_app(create_app(), options()).runtime.wsgi
    body = multipart(files=[("big", "big.bin", "application/octet-stream", b"x" * (LIMIT + 1))])
    status, payload, consumed = call_wsgi(wsgi, "/files", body, MULTIPART)
    assert status.startswith("413")
    assert b"exceeds the limit of 65536 bytes" in payload
    assert consumed == 0


def test_an_upload_just_under_the_limit_is_accepted(spine_app: SpineAppFactory) -> None:
    wsgi = spine_app(create_app(), options()).runtime.wsgi
    content = b"y" * (LIMIT - 500)
    body = multipart(files=[("big", "big.bin", "application/octet-stream", content)])
    status, payload, consumed = call_wsgi(wsgi, "/files", body, MULTIPART)
    assert status.startswith("200")
    assert sha(content).encode() in payload
    assert consumed == len(body)


def test_a_malformed_multipart_body_is_a_400(client: TestClient) -> None:
    result = client.simulate_post("/files", body=b"--not-the-boundary\r\n\r\n", headers=MULTIPART)
    assert result.status_code == 400
    assert "message" in result.json


def test_a_request_without_a_form_body_is_a_415(client: TestClient) -> None:
    """An upload route refuses a JSON body with a 415 naming the form types."""
    result = client.simulate_post("/files", json=[1, 2])
    assert result.status_code == 415
    assert "send application/x-www-form-urlencoded or multipart/form-data" in result.json["message"]


seen: list[UploadedFile] = []


def keep(files: list[UploadedFile]) -> int:
    seen.extend(files)
    return sum(f.size for f in files)


def test_big_files_are_spooled_to_disk_and_closed_after_the_request(spine_app: SpineAppFactory) -> None:
    """A 3 MiB file is not held in memory, reads back intact, and is closed once answered."""
    app = Spine()
    app.route("POST", "/keep", keep)
    client = spine_app(app, Options(http=HTTPOptions(max_upload_size=8 * 1024 * 1024))).client
    content = bytes(range(256)) * (3 * 4096)
    seen.clear()
    result = client.simulate_post("/keep", body=multipart(files=[("f", "f.bin", "x/y", content)]), headers=MULTIPART)
    assert result.json == len(content)
    (upload,) = seen
    assert upload.stream._rolled  # type: ignore[attr-defined]  # moved from memory to a temporary file
    assert upload.stream.closed


def test_secure_filename_strips_path_tricks() -> None:
    upload = UploadedFile("f", "../../etc/passwd", "text/plain", 0, None)  # type: ignore[arg-type]
    assert "/" not in upload.secure_filename
    assert upload.secure_filename.endswith("passwd")
