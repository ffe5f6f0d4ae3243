"""waitress configured from ``HTTPOptions``: connection and body limits, a deadline for a request's
head, and waitress's own error answers (400, 413, 431...) as JSON like every other error."""

from __future__ import annotations

import json
from typing import Any

from waitress.channel import HTTPChannel
from waitress.task import ErrorTask

from ..options import HTTPOptions


class JSONErrorTask(ErrorTask):  # type: ignore[misc]
    """waitress's answer to a request it refused before the app saw it, as ``{"message": ...}``."""

    def execute(self) -> None:
        error = self.request.error
        adj = self.channel.server.adj
        if error.code == 413:  # waitress's limit is one above Spine's (it refuses a body that reaches it)
            message = f"request body exceeds the limit of {adj.max_request_body_size - 1} bytes"
        elif error.code == 431:
            message = f"request head exceeds the limit of {adj.max_request_header_size} bytes"
        else:
            message = f"{error.reason}: {error.body}"
        body = json.dumps({"message": message}).encode()
        self.status = f"{error.code} {error.reason}"
        self.response_headers.append(("Content-Type", "application/json"))
        self.set_close_on_finish()
        self.content_length = len(body)
        self.write(body)


class SpineChannel(HTTPChannel):  # type: ignore[misc]
    """A connection whose refused requests are answered in JSON, and whose request head must
    arrive within ``channel_timeout`` of its first byte: waitress closes a connection idle for
    that long, and here a head sent a byte at a time counts as idle since it began."""

    error_task_class = JSONErrorTask
    last_activity: float
    head_started = 0.0

    def received(self, data: bytes) -> bool:
        if self.request is None:
            self.head_started = self.last_activity
        result: bool = super().received(data)
        request = self.request
        if request is not None and not request.headers_finished:
            self.last_activity = self.head_started
        return result


def waitress_arguments(http: HTTPOptions) -> dict[str, Any]:
    """The waitress settings of ``http``: waitress itself refuses a body larger than any limit
    (413, by Content-Length before reading, and while reading a chunked one); ``poll`` has no
    ceiling on file descriptors, where ``select`` stops at 1024."""
    return {
        "threads": http.threads,
        "connection_limit": http.connection_limit,
        "channel_timeout": http.channel_timeout,
        "cleanup_interval": http.cleanup_interval,
        "max_request_body_size": max(http.max_body_size, http.max_upload_size) + 1,
        "asyncore_use_poll": True,
    }


def use_spine_channels(server: Any) -> None:
    """Make ``server`` (from ``waitress.create_server``) open :class:`SpineChannel` connections."""
    server.channel_class = SpineChannel
