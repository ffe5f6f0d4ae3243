"""The wired application: singletons built, broker plugin loaded, routes and consumers planned."""

from __future__ import annotations

import threading
from typing import Any

import falcon

from . import plugins
from .blueprint import Blueprint
from .consumers.chain import subscription
from .consumers.resolvers import consumer_resolver_for
from .contracts.endpoint import serve_asyncapi, serve_openapi
from .context import Context
from .errors import BootError
from .http.falcon_app import build_falcon_app
from .http.routes import falcon_template
from .messages import Health, Subscription
from .ops.endpoints import install
from .ops.instrument import ConsumerProbe, PublishProbe, choose_tracer
from .ops.metrics import Metrics
from .options import BrokerConfig, Options
from .pipeline.dispatch import Dispatcher
from .pipeline.plan import Extras, Resolver, make_plan


class Runtime:
    """One app bound to its options and broker; ``start`` and ``close`` drive the broker."""

    def __init__(self, app: Blueprint, options: Options, broker: object | None = None) -> None:
        self.options = options
        config = BrokerConfig.from_options(options)
        self.broker = broker if broker is not None else plugins.create_broker(config)
        self.hook = plugins.plugin_manager(self.broker, config.name, app.extensions).hook
        self.extras = Extras(self._extension_resolver, tuple(self.hook.spine_around()))
        container = app.container
        container.warm_up()
        self.metrics = Metrics(self.hook.spine_consumer_lag, self.group_id) if options.ops.metrics else None
        choose_tracer()
        self.dispatch = Dispatcher(
            self.hook, config.topic_prefix, config.write, PublishProbe(self.metrics), app.codecs
        )
        self.stopping = threading.Event()
        http = options.http
        self.wsgi: falcon.App[falcon.Request, falcon.Response] | None = None
        self.ops_wsgi: falcon.App[falcon.Request, falcon.Response] | None = None
        """The operations endpoints' own app, with ``OpsOptions.address``: served there by the Service."""
        if http is not None:
            interceptors = [container.instance(i) for i in app.interceptors]
            self.wsgi = build_falcon_app(
                app.routes, http.global_prefix, container, interceptors, self.dispatch, options=http, extras=self.extras
            )
            templates = [r.template(http.global_prefix) for r in app.routes]
            self.ops_wsgi = install(
                self.wsgi, options.ops, self.metrics, self.health, {falcon_template(t): t for t in templates})
            if options.ops.openapi:  # the contracts stay with the API they describe, whatever the ops address
                serve_openapi(self.wsgi, app, options, [falcon_template(t) for t in templates])
            if options.ops.asyncapi_path:
                serve_asyncapi(self.wsgi, options.ops.asyncapi_path, app, options, self.dispatch.event_classes)
        elif options.ops.address is not None:  # no API, but health and metrics on their address
            self.ops_wsgi = install(None, options.ops, self.metrics, self.health, {})
        self.subscriptions = self._subscriptions(app, config)

    def _extension_resolver(self, name: str, annotation: Any) -> Resolver[Context] | None:
        resolver: Resolver[Context] | None = self.hook.spine_resolver(name=name, annotation=annotation)
        return resolver

    def _subscriptions(self, app: Blueprint, config: BrokerConfig) -> list[Subscription]:
        registry = app.consumer_registry
        if not registry.registrations:
            return []
        read = config.read
        if read is None:
            raise BootError("consumers are registered but the broker options have no read options (group id)")
        container = app.container
        shared = [container.instance(i) for i in registry.interceptors]
        codecs = list(app.codecs.known().values())
        subscriptions = []
        for reg in registry.registrations.values():
            interceptors = [*shared, *(container.instance(i) for i in reg.interceptors)]
            plan = make_plan(reg.handler, container, consumer_resolver_for(reg.topic), interceptors, self.extras)
            topic = config.topic_prefix + reg.topic
            probe = ConsumerProbe(topic, self.metrics)
            middlewares = [*registry.middlewares, *reg.middlewares]
            subscriptions.append(
                subscription(topic, plan, read, self.dispatch, self.stopping, probe, middlewares, reg.max_batch, codecs)
            )
        return subscriptions

    @property
    def group_id(self) -> str | None:
        read = self.options.broker.read
        return read.group_id if read else None

    def start(self) -> None:
        """Open the broker's clients, start the extensions, then start consuming."""
        self.hook.spine_broker_start()
        self.hook.spine_extension_start(runtime=self)
        if self.subscriptions:
            self.hook.spine_subscribe(group_id=self.group_id, subscriptions=self.subscriptions)

    def health(self) -> Health:
        """The broker's report; not ready once closing started."""
        if self.stopping.is_set():
            return Health(False, "shutting down")
        health = self.hook.spine_broker_health() or Health(True)
        for part in self.hook.spine_extension_health():
            health = Health(health.ready and part.ready, "; ".join(d for d in (health.detail, part.detail) if d))
        return health

    def close(self, timeout: float) -> None:
        """Stop retries in backoff and the extensions' own work, let the broker finish in-flight
        work and close, then close the extensions."""
        self.stopping.set()
        self.hook.spine_extension_stop(timeout=timeout)
        self.hook.spine_broker_close(timeout=timeout)
        self.hook.spine_extension_close()
        if self.metrics is not None:
            self.metrics.close()
