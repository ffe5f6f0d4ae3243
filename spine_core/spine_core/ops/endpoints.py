"""The operations side of the HTTP app: ``/health/live``, ``/health/ready`` and ``/metrics``,
and the middleware that counts every request by route template."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from time import perf_counter

import falcon

from ..context import current
from ..errors import BootError
from ..messages import Health
from ..options import OpsOptions
from ..toolkit.redact import redact
from .metrics import Metrics

UNMATCHED = "<unmatched>"
"""The ``route`` label of a request that matched no route (404)."""


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
        resp.media = {"status": "ready" if health.ready else "not ready", "detail": redact(health.detail)}


class MetricsResource:
    """``GET /metrics``: the runtime's metrics in Prometheus's text format."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        from prometheus_client import CONTENT_TYPE_LATEST  # loaded by the first scrape (see Metrics.registry)

        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = self._metrics.exposition()


class RequestCounter:
    """Falcon middleware: counts requests by route template (not the ops endpoints), and
    clears the log context of a request once it is answered."""

    def __init__(self, metrics: Metrics | None, templates: Mapping[str, str], ops: frozenset[object]) -> None:
        self._metrics = metrics
        self._templates = templates
        self._ops = ops

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.spine_ops = (current.set(None), perf_counter())

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        ops = getattr(req.context, "spine_ops", None)
        if ops is None:  # our process_request did not run
            return
        token, started = ops
        current.reset(token)
        if self._metrics is None or resource in self._ops:
            return
        template = req.uri_template
        route = self._templates.get(template, template) if template else UNMATCHED
        status = resp.status
        code = status if type(status) is int else falcon.http_status_to_code(status)
        self._metrics.observe_request(route, req.method, code, perf_counter() - started)


def install(
    app: falcon.App[falcon.Request, falcon.Response] | None,
    ops: OpsOptions,
    metrics: Metrics | None,
    health: Callable[[], Health],
    templates: Mapping[str, str],
) -> falcon.App[falcon.Request, falcon.Response] | None:
    """Mount the health (and, with ``metrics``, the metrics) endpoints on the API's ``app`` and add
    the request-counting middleware to it; ``templates`` are the app's route templates
    (``/orders/:order_id``) by Falcon's (``/orders/{order_id}``). With ``ops.address`` the
    endpoints go on a Falcon app of their own instead, which is returned (else None)."""
    resources: dict[str, object] = {ops.live_path: LiveResource(), ops.ready_path: ReadyResource(health)}
    if metrics is not None:
        resources[ops.metrics_path] = MetricsResource(metrics)
    own = falcon.App() if ops.address is not None else None
    for path, resource in resources.items():
        if own is not None:
            own.add_route(path, resource)
            continue
        if app is None:
            break
        if path in templates:
            raise BootError(f"route {templates[path]} takes the path of an ops endpoint; change OpsOptions")
        try:
            app.add_route(path, resource)
        except ValueError as e:
            raise BootError(f"ops endpoint {path} conflicts with a route: {e}") from None
    if app is not None:
        counted = frozenset(resources.values()) if own is None else frozenset()
        app.add_middleware(RequestCounter(metrics, templates, counted))
    return own
