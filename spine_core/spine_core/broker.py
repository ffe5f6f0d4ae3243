"""Everything a broker plugin needs, from one place.

A plugin implements the ``spine_*`` hooks (:mod:`spine_core.hookspecs`) with
``@hookimpl``, turns its client's messages into :class:`IncomingMessage` and
hands them to the delivery engine (:class:`Lanes`), which delivers them in key
order on a pool of workers and settles them through the plugin's :class:`Port`.
The plugin keeps only what is its broker's own: the client, positions and
commits, topology and reconnection. The conformance suite (``BrokerConformance``,
``Features``; needs pytest, ``pip install spine-core[testing]``) checks the result.

The toolkit (:mod:`spine_core.toolkit`) holds what every plugin would otherwise
write again, so that a new broker is its client plus a port:

- :class:`OffsetTracker`: a partition's offsets for Kafka-like brokers, and the port's
  ``take``, ``worth_finishing`` and ``settled`` for them (a Nack holds the partition);
- :class:`SettingsReader`: ``<X>Settings.from_settings`` reads typed settings with it;
- :class:`Outage`: one line when the server goes, reminders, one when it is back;
- :func:`text_headers`, :func:`as_text`: a client's headers as Spine's text headers;
- :class:`ThreadHandoff`, :class:`LoopHandoff`, :class:`AsyncioHandoff`: settlements
  handed from the engine's workers to the thread that owns the client;
- ``dlq_markers``: dead-letter replay recorded with markers, for append-only logs.

A plugin's own tests use the test kit of :mod:`spine_core.testing` beside the suites.
"""

from __future__ import annotations

from typing import Any

from .consumers.lanes import Lane, Lanes, Port
from .consumers.settle import Outcome, dead_letter_copy
from .errors import BootError, PublishError, SpineError
from .hookspecs import hookimpl
from .messages import (
    ACK, NACK, Ack, DeadLetter, Deliver, DeliverBatch, Headers, Health, IncomingMessage, Nack, OutgoingMessage,
    Settlement, StoredDeadLetter, Subscription,
)
from .options import BrokerConfig, ReadOptions, WriteOptions
from .pipeline.dispatch import to_message
from .runtime import Runtime
from .toolkit import markers as dlq_markers
from .toolkit.handoff import AsyncioHandoff, Handoff, LoopHandoff, ThreadHandoff
from .toolkit.headers import as_text, text_headers
from .toolkit.offsets import OffsetTracker
from .toolkit.outage import Outage, error_text
from .toolkit.settings import SettingsReader

__all__ = [
    "ACK", "Ack", "AsyncioHandoff", "BootError", "BrokerConfig", "DeadLetter", "Deliver", "DeliverBatch", "Handoff",
    "Headers", "Health", "IncomingMessage", "Lane", "Lanes", "LoopHandoff", "NACK", "Nack", "OffsetTracker",
    "OutgoingMessage", "Outage", "Outcome", "Port", "PublishError", "ReadOptions", "Runtime", "SettingsReader",
    "Settlement", "SpineError", "StoredDeadLetter", "Subscription", "ThreadHandoff", "WriteOptions", "as_text",
    "dead_letter_copy", "dlq_markers", "error_text", "hookimpl", "text_headers", "to_message",
]  # and, imported on first use: BrokerConformance, Features


def __getattr__(name: str) -> Any:
    """The conformance suite, imported only when asked for (it needs pytest)."""
    if name in ("BrokerConformance", "Features"):
        from .testing import conformance

        return getattr(conformance, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
