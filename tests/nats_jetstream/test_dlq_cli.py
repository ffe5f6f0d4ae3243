"""``spine dlq`` on NATS: list, show and replay a poison message and a handler bug's dead letter."""

from __future__ import annotations

from contracts.dlq_scenario import BuggyStock, run_story, stock_app, stock_options

from .conftest import NatsScope


def test_list_show_and_replay_on_nats(scope: NatsScope) -> None:
    """The CLI lists both dead letters with their reasons, shows one, and replays the fixed one."""
    consumer = BuggyStock()
    service = scope.start(stock_app(consumer), stock_options("nats", scope.prefix))
    run_story(service.runtime, consumer, scope.env())
