"""Everything a broker plugin needs, from one place.

A plugin implements the ``spine_*`` hooks (:mod:`spine_core.hookspecs`) with
``@hookimpl``, turns its client's messages into :class:`IncomingMessage` and
hands them to the delivery engine (:class:`Lanes`), which delivers them in key
order on a pool of workers and settles them through the plugin's :class:`Port`.
The plugin keeps only what is its broker's own: the client, positions and
commits (:class:`OffsetTracker` for Kafka-like offsets), topology and
reconnection. The conformance suite (``BrokerConformance``, ``Features``; needs
pytest, ``pip install spine-core[testing]``) checks the result.
"""

from __future__ import annotations

from typing import Any

from .consumers.lanes import Lane, Lanes, Port
from .consumers.offsets import OffsetTracker
from .consumers.settle import Outcome, dead_letter_copy
from .dlq import markers as dlq_markers
from .errors import BootError, PublishError, SpineError
from .hookspecs import hookimpl
from .messages import (
    ACK, NACK, Ack, DeadLetter, Deliver, DeliverBatch, Headers, Health, IncomingMessage, Nack, OutgoingMessage,
    Settlement, StoredDeadLetter, Subscription,
)
from .options import BrokerConfig, ReadOptions, WriteOptions
from .pipeline.dispatch import to_message
from .runtime import Runtime

__all__ = [
    "ACK", "Ack", "BootError", "BrokerConfig", "DeadLetter", "Deliver", "DeliverBatch", "Headers", "Health",
    "IncomingMessage", "Lane", "Lanes", "NACK", "Nack", "OffsetTracker", "OutgoingMessage", "Outcome", "Port",
    "PublishError", "ReadOptions", "Runtime", "Settlement", "SpineError", "StoredDeadLetter", "Subscription",
    "WriteOptions", "dead_letter_copy", "dlq_markers", "hookimpl", "to_message",
]  # and, imported on first use: BrokerConformance, Features


def __getattr__(name: str) -> Any:
    """The conformance suite, imported only when asked for (it needs pytest)."""
    if name in ("BrokerConformance", "Features"):
        from .testing import conformance

        return getattr(conformance, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
