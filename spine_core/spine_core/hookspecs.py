"""The broker contract: every ``spine_*`` hook a broker plugin implements.

A broker plugin is an object with ``@hookimpl`` methods. Its distribution names
a factory in the ``spine`` entry-point group; the core calls the factory with a
:class:`~spine_core.options.BrokerConfig` and registers the object it returns.
One plugin object stands for one service process's connection to the broker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pluggy

from .messages import Health, OutgoingMessage, Subscription

hookspec = pluggy.HookspecMarker("spine")
hookimpl = pluggy.HookimplMarker("spine")


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
    commits it, ``Nack`` redelivers it later, ``DeadLetter`` moves it to the
    named topic with the reason in its headers and then commits it. Nothing is
    committed past a message that is not settled.
    """


@hookspec(firstresult=True)
def spine_consumer_lag() -> Mapping[tuple[str, int], int] | None:
    """Messages not yet consumed by this process's consumer group, by (topic, partition),
    for the partitions assigned to it; None if the client cannot tell.

    Called at each metrics scrape, from a request thread: answer from what the
    client already knows (no blocking round trip of more than a second).
    """
