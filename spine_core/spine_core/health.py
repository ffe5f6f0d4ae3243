"""``GET /health/live`` and ``GET /health/ready``: liveness of the process, readiness of its broker and consumers."""

from __future__ import annotations

from collections.abc import Callable

import falcon

from .messages import Health


class LiveResource:
    """200 while the process serves requests."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"status": "live"}


class ReadyResource:
    """200 when ``health()`` says ready (broker connected, consumers running), else 503;
    the JSON body says what is not ready."""

    def __init__(self, health: Callable[[], Health]) -> None:
        self._health = health

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            health = self._health()
        except Exception as e:  # a broker that cannot even answer is not ready
            health = Health(False, f"health check failed: {type(e).__name__}: {e}")
        resp.status = 200 if health.ready else 503
        resp.media = {"status": "ready" if health.ready else "not ready", "detail": health.detail}
