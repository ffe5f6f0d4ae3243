"""``spine dlq`` on the memory broker (the process-wide one, as the CLI sees it in-process)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from spine_core.cli import cli
from spine_core.runtime import Runtime
from spine_memory import MemoryBroker

from .dlq_scenario import BuggyStock, run_story, stock_app, stock_options


@pytest.fixture
def shared_memory_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryBroker]:
    broker = MemoryBroker()
    monkeypatch.setattr(MemoryBroker, "_shared", broker)
    yield broker


def test_list_show_and_replay_on_memory(shared_memory_broker: MemoryBroker) -> None:
    prefix = f"m{uuid.uuid4().hex[:6]}."
    consumer = BuggyStock()
    runtime = Runtime(stock_app(consumer), stock_options("memory", prefix).with_env({}))
    runtime.start()
    try:
        run_story(runtime, consumer, {"SPINE_BROKER": "memory", "SPINE_MEMORY_TOPIC_PREFIX": prefix})
    finally:
        runtime.close(5.0)


def test_replay_needs_event_ids_or_all(shared_memory_broker: MemoryBroker) -> None:
    result = CliRunner().invoke(cli, ["dlq", "replay", "order.created"], env={"SPINE_BROKER": "memory"})
    assert result.exit_code == 2
    assert "give --event-id ID (one or more) or --all" in result.stderr


def test_the_topic_gets_prefix_and_suffix_of_the_app_options(shared_memory_broker: MemoryBroker) -> None:
    result = CliRunner().invoke(cli, ["dlq", "list", "order.created", "--app", "tests.contracts.fixtures.shapes",
                                      "--broker", "memory"], env={"SPINE_BROKER": None})
    assert result.exit_code == 0, result.output
    assert result.stdout == "prod.order.created.dlq: 0 dead letter(s)\n"


def test_an_unknown_broker_is_named(shared_memory_broker: MemoryBroker) -> None:
    result = CliRunner().invoke(cli, ["dlq", "list", "x", "--broker", "nosuch"])
    assert result.exit_code == 1
    assert "unknown broker 'nosuch'" in result.stderr
