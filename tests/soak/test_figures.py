"""The soak's counting, on answers and log lines made up for the purpose (no services)."""

from __future__ import annotations

from soak.ledger import Handled
from soak.load import Answer
from soak.processes import Line
from soak.report import Memory, Outage, figures, render


class Run:
    """The log of one stock service run."""

    def __init__(self, *handled: tuple[float, int]) -> None:
        self.lines = [Line(0.5, "INFO spine: listening on http://127.0.0.1:1")]
        self.lines += [Line(at, f"INFO stock: OrderID: {order_id}") for at, order_id in handled]


def test_every_order_is_counted() -> None:
    answers = [
        Answer(1, 1.0, 1.1, 200), Answer(2, 2.0, 2.1, 200), Answer(3, 3.0, 3.1, 200),
        Answer(4, 4.5, 9.0, 503, "broker away"),  # in flight while the broker was away
        Answer(5, 6.5, 7.0, 200),  # the first 200 after the broker came back at 6.0
        Answer(6, 8.0, 8.2, 503, "late"), Answer(7, 8.5, 8.6, 0, "ConnectionResetError"),
    ]
    handled = Handled()
    handled.add_run(Run((1.2, 1), (2.2, 2), (2.3, 2)))  # 2 handled twice: killed before committing
    handled.add_run(Run((7.5, 5), (7.6, 4)))  # 3 never handled; 4 handled though answered 503
    f = figures("kafka", "test", answers, handled, [Outage(4.0, 6.0, 2)], Memory(1.0, 2.0), Memory(1.0, None), 2,
                {"order service": 0})
    assert (f.sent, f.answered_200, f.handled) == (7, 4, 4)
    assert f.lost == [3]
    assert (f.duplicates, f.extra_handlings, f.handled_without_200) == (1, 1, 1)
    assert (f.s503_away, f.s503_other) == (1, 1)
    assert f.statuses == {0: 1, 200: 4, 503: 2}
    [recovery] = f.recoveries
    assert recovery.to_200 is not None and abs(recovery.to_200 - 1.0) < 1e-9
    assert recovery.to_handled is not None and abs(recovery.to_handled - 1.5) < 1e-9
    assert not f.passed
    assert "answered 200 but never handled       1 (3)" in render(f, "")


def test_a_broker_return_without_orders_flowing_again_fails() -> None:
    """No 200 after the broker came back, and only a new run of the stock service (started
    after a SIGKILL) handled an order: the run that lived through the outage never recovered."""
    answers = [Answer(1, 1.0, 1.1, 200), Answer(2, 5.0, 15.0, 503, "not confirmed")]
    handled = Handled()
    handled.add_run(Run((1.2, 1)))
    handled.add_run(Run((20.0, 1)))
    f = figures("kafka", "test", answers, handled, [Outage(4.0, 6.0, 1)], Memory(1.0, 2.0), Memory(1.0, 2.0), 2, {})
    assert f.lost == []
    assert f.recoveries[0].to_200 is None and f.recoveries[0].to_handled is None
    assert not f.passed
    assert "first 200 after never" in render(f, "")
