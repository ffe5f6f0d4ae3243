"""Ties health, metrics, tracing and log context into one runtime's HTTP app and consumers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from time import perf_counter

import falcon

from . import logs, tracing
from .errors import BootError
from .health import LiveResource, ReadyResource
from .http.routes import falcon_template
from .messages import Deliver, Health, IncomingMessage, Settlement
from .metrics import ConsumerMetrics, Metrics, MetricsResource
from .options import OpsOptions
from .tracing import TraceParent

UNMATCHED = "<unmatched>"
"""The ``route`` label of a request that matched no route (404)."""


def request_spans(method: str, template: str) -> Callable[[falcon.Request], tracing.Span]:
    """Starts the server span of each request to one route, under the request's ``traceparent``
    if it has one (name and attributes made once, at boot)."""
    name = f"{method} {template}"
    attributes = {"route": template}

    def request_span(req: falcon.Request) -> tracing.Span:
        header = req.env.get("HTTP_TRACEPARENT")
        return tracing.tracer().start(name, tracing.SERVER, TraceParent.parse(header) if header else None, attributes)

    return request_span


class OpsMiddleware:
    """Falcon middleware: counts requests by route template (not the ops endpoints), and
    clears the log context of a request once it is answered."""

    def __init__(self, metrics: Metrics | None, templates: Mapping[str, str], ops: frozenset[object]) -> None:
        self._metrics = metrics
        self._templates = templates
        self._ops = ops

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.spine_ops = (logs.current.set(None), perf_counter())

    def process_response(
        self, req: falcon.Request, resp: falcon.Response, resource: object, req_succeeded: bool
    ) -> None:
        ops = getattr(req.context, "spine_ops", None)
        if ops is None:  # our process_request did not run
            return
        token, started = ops
        logs.current.reset(token)
        if self._metrics is None or resource in self._ops:
            return
        template = req.uri_template
        route = self._templates.get(template, template) if template else UNMATCHED
        status = resp.status
        code = status if type(status) is int else falcon.http_status_to_code(status)
        self._metrics.observe_request(route, req.method, code, perf_counter() - started)


def install(
    app: falcon.App[falcon.Request, falcon.Response],
    ops: OpsOptions,
    metrics: Metrics | None,
    health: Callable[[], Health],
    routes: Sequence[str],
) -> None:
    """Mount the health (and, with ``metrics``, the metrics) endpoints on ``app`` and add the
    middleware; ``routes`` are the app's route templates (``/orders/:order_id``)."""
    templates = {falcon_template(t): t for t in routes}
    resources: dict[str, object] = {ops.live_path: LiveResource(), ops.ready_path: ReadyResource(health)}
    if metrics is not None:
        resources[ops.metrics_path] = MetricsResource(metrics)
    for path, resource in resources.items():
        if path in templates:
            raise BootError(f"route {templates[path]} takes the path of an ops endpoint; change OpsOptions")
        try:
            app.add_route(path, resource)
        except ValueError as e:
            raise BootError(f"ops endpoint {path} conflicts with a route: {e}") from None
    app.add_middleware(OpsMiddleware(metrics, templates, frozenset(resources.values())))


class ConsumerProbe:
    """Instruments one subscription: in-flight gauge, outcomes, durations, consume span."""

    def __init__(self, topic: str, metrics: Metrics | None) -> None:
        self._topic = topic
        self._name = f"{topic} process"
        self._metrics: ConsumerMetrics | None = metrics.consumer(topic) if metrics is not None else None

    def wrap(self, runner: Deliver) -> Deliver:
        """``runner`` with its messages counted (unless metrics are off)."""
        return runner if self._metrics is None else self._metrics.counted(runner)

    def span(self, message: IncomingMessage) -> tracing.Span:
        """The consume span of one handler attempt, under the message's ``traceparent``."""
        return tracing.span_under(self._name, tracing.CONSUMER, message.headers.get(tracing.HEADER), topic=self._topic)

    def observe(self, settlements: Sequence[Settlement], seconds: float) -> None:
        """Count the messages a batch handler settled, after ``seconds``."""
        if self._metrics is not None:
            for settlement in settlements:
                self._metrics.observe(settlement, seconds)

    def retried(self) -> None:
        """Count a failed attempt that will be retried."""
        if self._metrics is not None:
            self._metrics.retried()


NO_PROBE = ConsumerProbe("", None)
"""The probe of a runner made without a runtime: spans and log context only."""
