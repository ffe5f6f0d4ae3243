"""Route templates: ``:name`` segments, the global prefix, and Falcon's URI templates."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from attrs import field, frozen

from ..errors import BootError
from ..event import event_classes
from ..interceptor import Interceptor

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_SEGMENT = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")


@frozen
class Route:
    """One ``app.route(...)`` registration."""

    method: str
    path: str
    handler: Callable[..., Any]
    interceptors: Sequence[Interceptor | type] = ()
    publishes: Sequence[type] = ()
    """Event classes the handler publishes, declared for the AsyncAPI document."""
    responses: Mapping[int | str, Any] = field(factory=dict)
    """Answers declared for the OpenAPI document where the return type does not say them: by status,
    the body's type (rendered as a returned value would be), or a description for a body-less one."""

    @classmethod
    def create(
        cls, method: str, path: str, handler: Callable[..., Any], interceptors: Sequence[Any],
        publishes: Sequence[Any] = (), responses: Mapping[int | str, Any] | None = None,
    ) -> Route:
        method = method.upper()
        if method not in METHODS:
            raise BootError(f"route {path!r}: unknown HTTP method {method!r}")
        if not path.startswith("/"):
            raise BootError(f"route {path!r} must start with '/'")
        return cls(method, path, handler, tuple(interceptors), event_classes(publishes, f"route {method} {path}"),
                   dict(responses or {}))

    def template(self, prefix: str) -> str:
        """The route as registered, behind the global prefix (``/api`` + ``/orders/:id``)."""
        return (prefix.rstrip("/") + self.path) if prefix else self.path

    def param_names(self) -> list[str]:
        return _SEGMENT.findall(self.path)


def falcon_template(template: str) -> str:
    """``/orders/:order_id`` → ``/orders/{order_id}``."""
    return _SEGMENT.sub(r"{\1}", template)
