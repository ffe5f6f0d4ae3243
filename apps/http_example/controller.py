"""The example's controller: each method's signature is its HTTP contract."""

from __future__ import annotations

import csv
import hashlib
import io
from urllib.parse import quote

from attrs import Factory, define, frozen

from spine_core import Binary, Cookie, Pagination, Redirect, Response, UploadedFile, form

CATALOGUE_SIZE = 95


@form
@define
class Signup:
    """Filled from ``application/x-www-form-urlencoded`` or ``multipart/form-data``."""

    email: str
    age: int
    newsletter: bool = False
    interests: list[str] = Factory(list)


@frozen
class Item:
    id: int
    name: str


@frozen
class Page:
    page: int
    size: int
    items: list[Item]


@frozen
class FileInfo:
    field: str
    filename: str | None
    content_type: str
    size: int
    sha256: str


def _info(upload: UploadedFile) -> FileInfo:
    digest = hashlib.sha256()
    while chunk := upload.read(64 * 1024):
        digest.update(chunk)
    return FileInfo(upload.field, upload.filename, upload.content_type, upload.size, digest.hexdigest())


class ShopController:
    """A shop's members, uploads and catalogue."""

    def signup(self, signup: Signup) -> Response:
        """201 with the member and a session cookie."""
        cookie = Cookie("member", quote(signup.email), path="/", max_age=3600, same_site="Lax")  # ASCII only
        return Response(signup, status=201, cookies=[cookie])

    def upload(self, files: list[UploadedFile]) -> list[FileInfo]:
        """Name, type, size and SHA-256 of every file, read as a stream."""
        return [_info(f) for f in files]

    def avatar(self, avatar: UploadedFile) -> FileInfo:
        """The file sent in the form field ``avatar``."""
        return _info(avatar)

    def items(self, page: Pagination) -> Response:
        """One page of the catalogue; the total in ``X-Total-Count``."""
        last = min(page.offset + page.size, CATALOGUE_SIZE)
        items = [Item(i, f"item {i}") for i in range(page.offset + 1, last + 1)]
        return Response(Page(page.page, page.size, items), headers={"X-Total-Count": str(CATALOGUE_SIZE)})

    def old_catalogue(self) -> Redirect:
        """Moved for good to ``/items``; the old preference cookie is dropped."""
        return Redirect("/items", status=301, cookies=[Cookie("layout", "", path="/", max_age=0)])

    def report(self) -> Binary:
        """The catalogue as a CSV download, streamed."""
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(["id", "name"])
        writer.writerows((i, f"item {i}") for i in range(1, CATALOGUE_SIZE + 1))
        stream = io.BytesIO(text.getvalue().encode())
        return Binary(stream, "text/csv", filename="report.csv", headers={"Cache-Control": "no-store"})
