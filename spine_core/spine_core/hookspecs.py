"""The broker contract: every ``spine_*`` hook a broker plugin implements.

A broker plugin is an object with ``@hookimpl`` methods. Its distribution names
a factory in the ``spine`` entry-point group; the core calls the factory with a
:class:`~spine_core.options.BrokerConfig` and registers the object it returns.
One plugin object stands for one service process's connection to the broker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

from .messages import Health, OutgoingMessage, StoredDeadLetter, Subscription
from .options import Options

if TYPE_CHECKING:
    from .context import Context
    from .ops.metrics import Metrics
    from .pipeline.plan import Around, Resolver

hookspec = pluggy.HookspecMarker("spine")
hookimpl = pluggy.HookimplMarker("spine")


class Running(Protocol):
    """What an extension is given of the started app (its :class:`~spine_core.runtime.Runtime`)."""

    @property
    def options(self) -> Options:
        """The app's options, ``SPINE_*`` environment applied."""

    @property
    def hook(self) -> pluggy.HookRelay:
        """Every ``spine_*`` hook, e.g. ``hook.spine_publish`` to publish as the app does."""

    @property
    def metrics(self) -> Metrics | None:
        """The app's metrics (None with metrics off): ``observe_publish``, ``registry``."""

    @property
    def group_id(self) -> str | None:
        """The consumer group of the app's consumers, if it has read options."""


# -- Broker -------------------------------------------------------------------


@hookspec
def spine_broker_start() -> None:
    """Open the clients this process needs, before the first request or message.

    Called once, from the thread that starts the app. Raise
    :class:`~spine_core.errors.BootError` for configuration the broker refuses.
    """


@hookspec(firstresult=True)
def spine_broker_health() -> Health | None:
    """Report whether the broker is reachable and, for a consuming app, whether
    its consumers are running. Must answer within a second; any thread."""


@hookspec
def spine_broker_close(timeout: float) -> None:
    """Stop fetching, wait up to ``timeout`` seconds for ``deliver`` calls in
    flight, settle what they return, flush unsent messages and close.

    A message whose ``deliver`` has not returned by then is left unsettled and
    must be redelivered to the group's next consumer: closing never loses one.
    """


# -- Publisher ----------------------------------------------------------------


@hookspec
def spine_publish(messages: Sequence[OutgoingMessage], timeout: float) -> None:
    """Send ``messages`` and return only once the broker confirmed every one.

    Called concurrently from many request threads. Messages with the same key
    on the same topic must be delivered in the order given. Raise
    :class:`~spine_core.errors.PublishError` if any message is not confirmed
    within ``timeout`` seconds; never return for an unconfirmed message. After
    ``spine_broker_close``, raise PublishError at once, saying so.
    """


# -- ConsumerRegistry ---------------------------------------------------------


@hookspec
def spine_subscribe(group_id: str, subscriptions: Sequence[Subscription]) -> None:
    """Start consuming ``subscriptions`` as one member of consumer group ``group_id``.

    Return once consuming has started; messages are handled on the broker's own
    threads. Every message published to a subscribed topic reaches one member
    of each group. Messages with the same key are handed to ``deliver`` one at a
    time, in publish order. Settle each message as ``deliver`` says: ``Ack``
    commits it, ``Nack`` redelivers it after ``ReadOptions.redelivery_delay``,
    ``DeadLetter`` moves it to the named topic with the reason in its headers
    and then commits it. :class:`spine_core.broker.Lanes` does all of this but
    the commits: a plugin hands it messages and settles what its port is told. Nothing is
    committed past a message that is not settled.
    """


@hookspec(firstresult=True)
def spine_consumer_lag() -> Mapping[tuple[str, int], int] | None:
    """Messages not yet consumed by this process's consumer group, by (topic, partition),
    for the partitions assigned to it; None if the client cannot tell.

    Called at each metrics scrape, from a request thread: answer from what the
    client already knows (no blocking round trip of more than a second).
    """


# -- Extensions ---------------------------------------------------------------
# Plugin objects given to ``app.extend(...)`` (e.g. spine-postgres) are registered
# next to the broker and may implement these, as well as the broker hooks above.


@hookspec(firstresult=True)
def spine_resolver(name: str, annotation: Any) -> Resolver[Context] | None:
    """The resolver of a handler parameter (route or consumer) the extension supplies,
    or None to leave it to the core. Called at boot, before the core's own resolvers."""


@hookspec
def spine_around() -> Around | None:
    """A stage run around every handler call (routes and consumers), inside the
    interceptors' ``pre_handle``: ``around(ctx, proceed)`` calls ``proceed()`` (argument
    resolution, the handler, ``post_handle``) at most once and returns its result. It may
    take ``ctx.events`` before the core publishes them, or not proceed at all (a consumer's
    message is then acknowledged). Called at boot."""


@hookspec
def spine_extension_start(runtime: Running) -> None:
    """After the broker started, before consuming starts: open what the extension needs."""


@hookspec
def spine_extension_stop(timeout: float) -> None:
    """Before the broker closes: finish the extension's own work (e.g. a relay's batch)
    within ``timeout`` seconds and start no more."""


@hookspec
def spine_extension_close() -> None:
    """After the broker closed (no handler runs any more): release the extension's resources."""


@hookspec
def spine_extension_health() -> Health | None:
    """The extension's part of readiness (any not ready makes the app not ready)."""


# -- Dead letters -------------------------------------------------------------
# Called by ``spine dlq`` after ``spine_broker_start``, in a process that has not
# subscribed; the app's consumers may be running elsewhere at the same time.


@hookspec(firstresult=True)
def spine_dlq_list(topic: str, timeout: float) -> Sequence[StoredDeadLetter] | None:
    """The dead letters waiting on dead-letter topic ``topic``, oldest first.

    ``topic`` is the name as stored: prefixed and with the dead-letter suffix
    (``order.created.dlq``); a topic that does not exist has none (empty list).
    Those already replayed by ``spine_dlq_replay`` are not listed. Listing
    changes nothing: it consumes, acknowledges and commits nothing, so two
    listings in a row answer the same. Each entry carries the stored value, key
    and headers unchanged. Raise :class:`~spine_core.errors.SpineError` if the
    broker does not answer within ``timeout`` seconds.
    """


@hookspec(firstresult=True)
def spine_dlq_replay(
    topic: str, event_ids: Sequence[str] | None, timeout: float
) -> Sequence[StoredDeadLetter] | None:
    """Publish back the dead letters of ``topic`` whose ``event-id`` header is in
    ``event_ids`` (every one listed when None) and return those replayed, oldest first.

    Each is published as :meth:`StoredDeadLetter.replay` says: to its original
    topic, same value and key, its headers without the ``dead-letter-*`` ones.
    Only after the broker confirmed that publish is the dead letter removed
    (acknowledged, deleted or marked replayed), so that ``spine_dlq_list`` no
    longer lists it; a dead letter dead-lettered again later is listed again.
    An event id with no dead letter is ignored (the caller checks). Raise
    :class:`~spine_core.errors.PublishError` if a publish is not confirmed
    within ``timeout`` seconds: that dead letter and those after it stay listed.
    """
