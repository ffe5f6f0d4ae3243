"""Interceptors: code that runs around every handler, for HTTP routes and consumers alike."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from .context import Context


class Interceptor:
    """Subclass and override what you need; every method defaults to doing nothing.

    ``pre_handle`` runs before the handler in registration order and aborts the
    call by raising (an :class:`~spine_core.errors.HTTPError` becomes the
    response). ``post_handle`` runs after the handler succeeded, in reverse
    order. ``after_completion`` always runs last, in reverse order, with the
    final error or ``None``, for each interceptor whose ``pre_handle`` ran.

    ``responses`` and ``security`` declare, for the OpenAPI document, what ``pre_handle`` may
    answer (``{401: "no valid bearer token"}``) and the security schemes it checks, by name, as
    OpenAPI writes them (``{"bearer": {"type": "http", "scheme": "bearer"}}``).
    """

    responses: ClassVar[Mapping[int, str]] = {}
    security: ClassVar[Mapping[str, Mapping[str, Any]]] = {}

    def pre_handle(self, ctx: Context) -> None:
        """Before the handler; raise to abort."""

    def post_handle(self, ctx: Context, result: Any) -> None:
        """After the handler returned ``result``, before events are published."""

    def after_completion(self, ctx: Context, error: BaseException | None) -> None:
        """Always, once the outcome is known."""
