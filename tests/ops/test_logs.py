"""JSON log lines: one object per line, carrying the route, topic, event id, correlation id and trace id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest

from apps import order_app, stock_app
from spine_core.context import current
from spine_core.errors import BootError
from spine_core.ops.logs import configure_logging, handler
from spine_memory.pytest_plugin import StartedApp

from . import sample

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.fixture
def json_lines() -> Iterator[Callable[[], list[dict[str, str]]]]:
    """Records of every logger as the JSON handler of ``SPINE_LOG_FORMAT=json`` writes them."""
    stream = io.StringIO()
    h = handler("json", stream)
    root = logging.getLogger()
    root.addHandler(h)
    token = current.set(None)  # whatever context earlier tests left on this thread
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    current.reset(token)
    root.removeHandler(h)


def test_seed_lines_carry_the_ids_of_the_orders_request(
    spine_app: Callable[..., StartedApp], json_lines: Callable[[], list[dict[str, str]]]
) -> None:
    """The stock service's ``OrderID: 7`` line has the correlation and trace ids of ``POST /orders/7``."""
    spine_app(stock_app.create_app(), stock_app.options())
    orders = spine_app(order_app.create_app(), order_app.options())
    assert orders.client is not None
    response = orders.client.simulate_post(
        "/orders/7", headers={"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}
    )
    assert response.status_code == 200
    orders.broker.drain()
    [stored] = orders.broker.messages("order.created")
    [line] = [e for e in json_lines() if e["message"] == "OrderID: 7"]
    assert set(line) >= {"time", "level", "logger", "message"}
    assert (line["level"], line["logger"]) == ("INFO", "stock")
    assert line["correlation_id"] == response.headers["X-Correlation-ID"]
    assert line["trace_id"] == TRACE_ID
    assert line["topic"] == "order.created"
    assert line["event_id"] == stored.headers["event-id"]
    assert "route" not in line


def test_http_handler_lines_carry_the_route_template(
    spine_app: Callable[..., StartedApp], json_lines: Callable[[], list[dict[str, str]]]
) -> None:
    started = spine_app(sample.create_app(), sample.options())
    assert started.client is not None
    started.client.simulate_post("/api/pings/3", headers={"X-Correlation-ID": "c-3"})
    started.broker.drain()
    entries = json_lines()
    [requested] = [e for e in entries if e["message"] == "ping 3 requested"]
    assert (requested["route"], requested["correlation_id"]) == ("/api/pings/:n", "c-3")
    assert len(requested["trace_id"]) == 32
    [handled] = [e for e in entries if e["message"] == "ping 3 handled"]
    assert (handled["topic"], handled["correlation_id"], handled["trace_id"]) == (
        "t.ping", "c-3", requested["trace_id"]
    )


def test_records_outside_a_request_have_no_ids_and_errors_keep_their_traceback(
    json_lines: Callable[[], list[dict[str, str]]]
) -> None:
    log = logging.getLogger("ops.test")
    try:
        raise ValueError("bad")
    except ValueError:
        log.exception("failed")
    [entry] = [e for e in json_lines() if e["logger"] == "ops.test"]
    assert entry["level"] == "ERROR" and "correlation_id" not in entry
    assert "ValueError: bad" in entry["exception"]


def test_failure_lines_of_the_consumer_carry_the_message_ids(
    spine_app: Callable[..., StartedApp], json_lines: Callable[[], list[dict[str, str]]]
) -> None:
    """The runner's own retry and dead-letter lines are found by the request's correlation id."""
    started = spine_app(sample.create_app(), sample.options())
    assert started.client is not None
    started.client.simulate_post("/api/pings/-1", headers={"X-Correlation-ID": "c-fail"})
    started.broker.drain()
    lines = [e for e in json_lines() if e["logger"] == "spine.consumer"]
    assert [e["level"] for e in lines] == ["WARNING", "ERROR"]
    assert {e["correlation_id"] for e in lines} == {"c-fail"}


@pytest.mark.parametrize(("env", "message"), [
    ({"SPINE_LOG_FORMAT": "xml"}, "SPINE_LOG_FORMAT='xml': use 'text' or 'json'"),
    ({"SPINE_LOG_LEVEL": "loud"}, "SPINE_LOG_LEVEL='LOUD'"),
])
def test_bad_log_settings_are_boot_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(BootError, match=message):
        configure_logging(env)
