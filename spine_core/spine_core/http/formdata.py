"""The request's form body, read once through Falcon's media handlers: fields and uploaded files."""

from __future__ import annotations

import tempfile
from typing import IO, Any

import attrs
import falcon
from attrs import define

from ..context import RequestContext
from ..errors import BadRequest, PayloadTooLarge
from ..pipeline.plan import Resolver
from .media import media_type, require_form

SPOOL_IN_MEMORY = 1024 * 1024
"""An uploaded file bigger than this is spooled to a temporary file on disk."""

_KEY = "spine.formdata"


@define(eq=False)
class UploadedFile:
    """One file of a multipart request; ``stream`` is open until the response is rendered."""

    field: str
    """The form field it was sent in."""
    filename: str | None
    """The name the client gave it (untrusted: use ``secure_filename`` for paths)."""
    content_type: str
    size: int
    """Its length in bytes."""
    stream: IO[bytes] = attrs.field(repr=False)
    """Positioned at the start; memory up to 1 MiB, a temporary file beyond."""

    def read(self, size: int = -1) -> bytes:
        """Read from ``stream`` (everything by default)."""
        return self.stream.read(size)

    @property
    def secure_filename(self) -> str:
        """``filename`` reduced to safe ASCII characters, fit for a path (falcon's ``secure_filename``)."""
        return falcon.secure_filename(self.filename or "upload")


@define
class FormData:
    """A form body: every value of every text field, and every file, in the order sent."""

    fields: dict[str, list[str]]
    files: list[UploadedFile]

    def close(self) -> None:
        for upload in self.files:
            upload.stream.close()


def read_form(ctx: RequestContext, max_size: int) -> FormData:
    """The request's form body, parsed on first use and kept on ``ctx``.

    400 when the body is not a form; 413 when its Content-Length exceeds
    ``max_size`` (checked before anything is read, and Falcon never reads
    past the Content-Length).
    """
    cached: FormData | None = ctx.values.get(_KEY)
    if cached is None:
        cached = ctx.values[_KEY] = _parse(ctx.request, max_size)
    return cached


def close_form(ctx: RequestContext) -> None:
    """Close the uploaded files of ``ctx``'s request, if its form was read."""
    data: FormData | None = ctx.values.pop(_KEY, None)
    if data is not None:
        data.close()


def _parse(req: falcon.Request, max_size: int) -> FormData:
    require_form(req)
    length = req.content_length or 0
    if length > max_size:
        raise PayloadTooLarge(f"request body of {length} bytes exceeds the limit of {max_size} bytes")
    media: Any = req.get_media()
    if media_type(req) == falcon.MEDIA_URLENCODED:
        return FormData({k: v if isinstance(v, list) else [v] for k, v in media.items()}, [])
    data = FormData({}, [])
    try:
        for part in media:
            text = None if part.filename is not None else part.get_text()
            if text is None:
                data.files.append(_spool(part))
            else:
                data.fields.setdefault(part.name or "", []).append(text)
    except BaseException:
        data.close()
        raise
    return data


def _spool(part: Any) -> UploadedFile:
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)
    try:
        part.stream.pipe(spool)
    except BaseException:
        spool.close()
        raise
    size = spool.tell()
    spool.seek(0)
    return UploadedFile(part.name or "", part.filename, part.content_type, size, spool)


def files_resolver(max_size: int) -> Resolver[RequestContext]:
    """``list[UploadedFile]``: every file of the request."""
    return lambda ctx: list(read_form(ctx, max_size).files)


def file_resolver(name: str, max_size: int) -> Resolver[RequestContext]:
    """``UploadedFile``: the one file sent in the form field called like the parameter."""

    def resolve(ctx: RequestContext) -> UploadedFile:
        found = [f for f in read_form(ctx, max_size).files if f.field == name]
        if len(found) != 1:
            raise BadRequest(f"form field {name!r} must hold exactly one file, got {len(found)}")
        return found[0]

    return resolve
