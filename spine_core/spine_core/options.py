"""Application options (attrs), mirroring the original's ``boot.Options``, and ``SPINE_*`` overrides."""

from __future__ import annotations

import os
from collections.abc import Mapping

from attrs import Factory, define, evolve, field, frozen

from .errors import BootError
from .toolkit.redact import redact_settings, shown_settings
from .toolkit.settings import SettingsReader, with_secret_files


@define(kw_only=True)
class RetryOptions:
    """How a failing consumer handler is retried before its message is dead-lettered."""

    attempts: int = 3
    initial_delay: float = 0.2
    multiplier: float = 2.0
    max_delay: float = 5.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed ``attempt`` (1-based)."""
        return min(self.initial_delay * self.multiplier ** (attempt - 1), self.max_delay)


@define(kw_only=True)
class WriteOptions:
    """This app publishes; ``publish_timeout`` bounds the wait for the broker's confirmation."""

    publish_timeout: float = 10.0


@define(kw_only=True)
class ReadOptions:
    """This app consumes as one member of ``group_id``.

    A message handed back (``Nack``: the consumer stopped during its retries, or its
    dead letter was not confirmed) is delivered again after ``redelivery_delay``
    seconds, on every broker.
    """

    group_id: str
    retry: RetryOptions = Factory(RetryOptions)
    dead_letter_suffix: str = ".dlq"
    redelivery_delay: float = 1.0


@define(kw_only=True)
class BrokerOptions:
    """Which broker plugin to use and how.

    ``topic_prefix`` is put before every event name, on the publishing and on the
    consuming side alike. ``write=None`` says the app never publishes, ``read=None``
    that it does not consume. ``settings`` holds each plugin's own settings under
    its name, e.g. ``{"kafka": {"bootstrap.servers": "localhost:9092"}}``.
    """

    name: str = "memory"
    topic_prefix: str = ""
    write: WriteOptions | None = Factory(WriteOptions)
    read: ReadOptions | None = None
    settings: dict[str, dict[str, str]] = field(
        factory=dict, repr=lambda s: repr({name: redact_settings(v) for name, v in s.items()}))


@define(kw_only=True)
class HTTPOptions:
    """The HTTP server: which one (``waitress`` or ``granian``, see the serving guide), a prefix
    for every route, the threads running requests, and request limits.

    ``max_body_size`` is the largest request body accepted, in bytes, and ``max_upload_size``
    the largest form or multipart one (larger ones are answered 413 unread); ``max_page_size``
    the largest ``Pagination`` ``size`` a client may ask for. ``connection_limit`` is how many
    connections are open at once (more wait in the listen backlog); a connection idle for
    ``channel_timeout`` seconds, or whose request head has not all arrived that long after its
    first byte, is closed, checked every ``cleanup_interval`` seconds.
    """

    server: str = "waitress"
    global_prefix: str = ""
    threads: int = 8
    max_body_size: int = 1024 * 1024
    max_upload_size: int = 10 * 1024 * 1024
    max_page_size: int = 100
    connection_limit: int = 1000
    channel_timeout: int = 30
    cleanup_interval: int = 10


@define(kw_only=True)
class OpsOptions:
    """Operations endpoints, served with the HTTP options next to the routes (and without
    their interceptors), and whether Prometheus metrics are kept (``SPINE_METRICS=0``: not).
    ``address`` (``SPINE_OPS_ADDRESS``, e.g. ``127.0.0.1:9090``) serves the health and metrics
    endpoints there instead, on a server of their own, and no longer on the API's address
    (also for an app without HTTP options); None: next to the routes.
    ``asyncapi_path`` (e.g. ``/asyncapi.json``) serves the app's AsyncAPI document on the API's
    address, whatever ``address`` is; None: not served.
    ``openapi`` serves the app's OpenAPI document at ``openapi_path`` and the API page at ``docs_path``
    on the API's address, whatever ``address`` is (``SPINE_OPENAPI=0``: neither, for a public API that
    should not show them); a path a route of the app answers stays the app's."""

    address: str | None = None
    metrics: bool = True
    metrics_path: str = "/metrics"
    live_path: str = "/health/live"
    ready_path: str = "/health/ready"
    asyncapi_path: str | None = None
    openapi: bool = True
    openapi_path: str = "/openapi.json"
    docs_path: str = "/docs"


@define(kw_only=True)
class Options:
    """Everything ``Spine.run`` needs; ``http=None`` serves no HTTP.

    ``workers`` > 1 runs that many worker processes sharing the listening socket, each
    with its own broker clients (so each is a member of the consumer group).
    """

    address: str = ":8080"
    workers: int = 1
    enable_graceful_shutdown: bool = True
    shutdown_timeout: float = 10.0
    broker: BrokerOptions = Factory(BrokerOptions)
    http: HTTPOptions | None = Factory(HTTPOptions)
    ops: OpsOptions = Factory(OpsOptions)

    def with_env(self, environ: Mapping[str, str] | None = None) -> Options:
        """A copy with the ``SPINE_*`` environment variables applied over the code's values."""
        env = with_secret_files(os.environ if environ is None else environ)  # SPINE_<NAME>_FILE
        variables = SettingsReader.from_env("SPINE_", env)
        broker = self.broker
        name = env.get("SPINE_BROKER") or broker.name
        scope = f"SPINE_{name.upper()}_"
        settings = dict(broker.settings.get(name, {}))
        prefix, group_id = broker.topic_prefix, None
        for var, value in env.items():
            if not var.startswith(scope):
                continue
            key = var[len(scope):]
            if key == "TOPIC_PREFIX":
                prefix = value
            elif key == "GROUP_ID":
                group_id = value
            else:
                settings[key.lower().replace("_", ".")] = value
        read = broker.read
        if group_id is not None and read is not None:
            read = evolve(read, group_id=group_id)
        write = broker.write
        if write is not None:
            write = evolve(write, publish_timeout=variables.seconds("publish_timeout", write.publish_timeout))
        broker = evolve(
            broker, name=name, topic_prefix=prefix, read=read, write=write,
            settings={**broker.settings, name: settings},
        )
        shutdown_timeout = variables.seconds("shutdown_timeout", self.shutdown_timeout)
        address = env.get("SPINE_ADDRESS", self.address)
        ops = evolve(self.ops, metrics=variables.flag("metrics", self.ops.metrics),
                     openapi=variables.flag("openapi", self.ops.openapi),
                     address=env.get("SPINE_OPS_ADDRESS") or self.ops.address)
        http = self.http
        if "SPINE_SERVER" in env and http is not None:
            http = evolve(http, server=env["SPINE_SERVER"])
        workers = variables.integer("workers", self.workers, minimum=1)
        return evolve(
            self, broker=broker, address=address, shutdown_timeout=shutdown_timeout, ops=ops, http=http,
            workers=workers,
        )


@frozen
class BrokerConfig:
    """What a broker plugin's factory receives: the selected broker's options."""

    name: str
    topic_prefix: str = ""
    write: WriteOptions | None = None
    read: ReadOptions | None = None
    settings: Mapping[str, str] = field(factory=dict, repr=shown_settings)
    shutdown_timeout: float = 10.0

    @classmethod
    def from_options(cls, options: Options) -> BrokerConfig:
        b = options.broker
        return cls(
            name=b.name, topic_prefix=b.topic_prefix, write=b.write, read=b.read,
            settings=b.settings.get(b.name, {}), shutdown_timeout=options.shutdown_timeout,
        )


EVERY_INTERFACE = "0.0.0.0"  # nosec B104 # what ':8080' asks for, as in Go; SPINE_OPS_ADDRESS keeps ops apart


@frozen
class Address:
    """A parsed ``host:port``; ``:8080`` listens on every interface as in Go."""

    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Address:
        host, sep, port = text.rpartition(":")
        if not sep or not port.isdigit():
            raise BootError(f"address {text!r} is not HOST:PORT (e.g. ':8080' or '127.0.0.1:9000')")
        return cls(host.strip("[]") or EVERY_INTERFACE, int(port))
