"""``spine dlq`` on Redis: list, show and replay a poison message and a handler bug's dead letter."""

from __future__ import annotations

from contracts.dlq_scenario import BuggyStock, run_story, stock_app, stock_options
from spine_core.extension import Runtime

from .conftest import RedisScope


def test_list_show_and_replay_on_redis(scope: RedisScope) -> None:
    consumer = BuggyStock()
    options = stock_options("redis", scope.prefix)
    options = options.with_env(scope.env())
    runtime = Runtime(stock_app(consumer), options)
    runtime.start()
    try:
        run_story(runtime, consumer, scope.env())
    finally:
        runtime.close(5.0)
