"""The stages of the consumer chain, one module each; :mod:`..chain` puts them in order.

Every stage is a middleware, ``Deliver -> Deliver``. Inside the chain a
``Deliver`` may raise: the dead-letter stage turns what escapes the retries
into a :class:`~spine_core.messages.DeadLetter`.
"""

from collections.abc import Callable

from ...messages import Deliver

Middleware = Callable[[Deliver], Deliver]
"""Wraps the rest of the chain; runs once per message, around the retries."""

__all__ = ["Middleware"]
