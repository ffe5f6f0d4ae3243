"""Per call: resolve arguments, run the handler inside its interceptors, publish its events."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from ..context import Context
from .plan import C, Plan

log = logging.getLogger("spine")


def invoke(plan: Plan[C], ctx: C, dispatch: Callable[[Context], None]) -> Any:
    """Run ``plan`` for ``ctx`` and return the handler's result.

    Order: every ``pre_handle``; the extensions' ``around`` stages, inside which the
    handler and every ``post_handle`` (reverse) run; ``dispatch`` of the queued events;
    then ``after_completion`` (reverse, always).
    Anything raised on the way propagates after ``after_completion`` ran.
    """
    if not plan.interceptors and not plan.arounds:
        result = plan.handler(*[resolve(ctx) for resolve in plan.resolvers])
        if ctx.events:
            dispatch(ctx)
        return result
    entered: list[Any] = []
    error: BaseException | None = None
    try:
        for interceptor in plan.interceptors:
            interceptor.pre_handle(ctx)
            entered.append(interceptor)
        proceed: Callable[[], Any] = partial(_handle, plan, ctx, entered)
        for around in reversed(plan.arounds):
            proceed = partial(around, ctx, proceed)
        result = proceed()
        if ctx.events:
            dispatch(ctx)
        return result
    except BaseException as e:
        error = e
        raise
    finally:
        for interceptor in reversed(entered):
            try:
                interceptor.after_completion(ctx, error)
            except Exception:
                log.exception("after_completion of %r failed", interceptor)


def _handle(plan: Plan[C], ctx: C, entered: list[Any]) -> Any:
    result = plan.handler(*[resolve(ctx) for resolve in plan.resolvers])
    for interceptor in reversed(entered):
        interceptor.post_handle(ctx, result)
    return result
