"""The dead-letter story on any broker, driven through the ``spine dlq`` CLI: a poison message
and a handler bug dead-letter two events; they are listed and shown; once the bug is fixed,
one is replayed and handled; an unknown event id is refused."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from click.testing import CliRunner, Result

from apps.events import OrderCreated
from spine_core import BrokerOptions, Context, Options, ReadOptions, RetryOptions, Spine
from spine_core.cli import cli
from spine_core.messages import Headers, OutgoingMessage
from spine_core.event import to_message
from spine_core.runtime import Runtime

TIMEOUT = 30.0


class BuggyStock:
    """Fails on order 13 until ``fixed``; records the orders it handled."""

    def __init__(self) -> None:
        self.fixed = False
        self.handled: list[int] = []
        self.cond = threading.Condition()

    def on_created(self, ctx: Context, event: OrderCreated) -> None:
        if event.order_id == 13 and not self.fixed:
            raise RuntimeError("stock row 13 is locked")
        with self.cond:
            self.handled.append(event.order_id)
            self.cond.notify_all()

    def wait_handled(self, order_id: int) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: order_id in self.handled, TIMEOUT), f"{order_id} not handled"


def stock_app(consumer: BuggyStock) -> Spine:
    app = Spine()
    app.consumers().register("order.created", consumer.on_created)
    return app


def stock_options(name: str, prefix: str) -> Options:
    read = ReadOptions(group_id=f"{prefix}stock", retry=RetryOptions(attempts=1))
    return Options(http=None, broker=BrokerOptions(name=name, topic_prefix=prefix, read=read))


def run_story(runtime: Runtime, consumer: BuggyStock, env: Mapping[str, str | None]) -> dict[str, Result]:
    """Dead-letter order 13 and a poison message, then list, show, replay; the CLI results by step."""
    prefix = runtime.options.broker.topic_prefix
    poison_id = f"poison-{uuid.uuid4().hex[:8]}"
    bug = to_message(OrderCreated(13, datetime.now(timezone.utc)), prefix, "corr-13")
    # The same key as the bug's: dead-lettered one after the other (see DeadLetterConformance).
    poison = OutgoingMessage(prefix + "order.created", b"{not json", "13",
                             {Headers.EVENT_ID: poison_id, Headers.EVENT_NAME: "order.created"})
    runtime.hook.spine_publish(messages=[bug, poison], timeout=TIMEOUT)
    dlq = prefix + "order.created.dlq"
    wait_until(lambda: len(runtime.hook.spine_dlq_list(topic=dlq, timeout=TIMEOUT)) == 2, "two dead letters")

    def spine(*args: str) -> Result:
        return CliRunner().invoke(cli, list(args), env=dict(env))

    results = {"list": spine("dlq", "list", "order.created"),
               "show": spine("dlq", "show", "order.created", poison_id)}
    consumer.fixed = True
    results["replay"] = spine("dlq", "replay", "order.created", "--event-id", bug.headers[Headers.EVENT_ID])
    consumer.wait_handled(13)
    results["after"] = spine("dlq", "list", "order.created")
    results["unknown"] = spine("dlq", "replay", "order.created", "--event-id", "no-such-event")
    check_story(results, prefix, bug.headers[Headers.EVENT_ID], poison_id)
    return results


def check_story(results: dict[str, Result], prefix: str, bug_id: str, poison_id: str) -> None:
    listed = results["list"]
    assert listed.exit_code == 0, listed.output
    lines = listed.stdout.splitlines()
    assert lines[0] == f"{prefix}order.created.dlq: 2 dead letter(s)"
    assert lines[1].split() == ["EVENT", "ID", "KEY", "REASON", "ATTEMPTS", "ORIGINAL", "POSITION", "DEAD-LETTERED",
                                "AT"]
    rows = {line.split()[0]: line for line in lines[2:]}
    assert set(rows) == {bug_id, poison_id}
    assert "RuntimeError: stock row 13 is locked" in rows[bug_id] and rows[bug_id].split()[1] == "13"
    assert "DecodeError" in rows[poison_id]

    shown = results["show"]
    assert shown.exit_code == 0, shown.output
    assert f"event id: {poison_id}" in shown.stdout
    assert f"  {Headers.ORIGINAL_TOPIC}: {prefix}order.created" in shown.stdout
    assert "payload:\n  b'{not json'" in shown.stdout

    replayed = results["replay"]
    assert replayed.exit_code == 0, replayed.output
    assert replayed.stdout == f"replayed 1 dead letter(s) to {prefix}order.created\n  {bug_id}\n"

    after = results["after"]
    assert after.exit_code == 0, after.output
    assert after.stdout.splitlines()[0] == f"{prefix}order.created.dlq: 1 dead letter(s)"
    assert after.stdout.splitlines()[2].startswith(poison_id)

    unknown = results["unknown"]
    assert unknown.exit_code == 1
    assert f"no dead letter with event id no-such-event on {prefix}order.created.dlq" in unknown.stderr


def wait_until(condition: Callable[[], Any], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
