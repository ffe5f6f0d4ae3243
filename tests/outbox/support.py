"""Helpers of the PostgreSQL tests: queries and what they should find."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from spine_core.runtime import Runtime


def rows(dsn: str, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as connection:
        return connection.execute(query, params).fetchall()  # type: ignore[arg-type]


def scalar(dsn: str, query: str, params: tuple[Any, ...] = ()) -> Any:
    return rows(dsn, query, params)[0][0]


def reservations(dsn: str) -> dict[int, int]:
    """Order id -> number of stock reservations."""
    return dict(rows(dsn, "SELECT order_id, count(*) FROM stock_reservations GROUP BY order_id"))


def all_reserved_once(dsn: str, orders: range) -> Callable[[], bool]:
    return lambda: len(reservations(dsn)) >= len(orders)


def assert_reserved_once(dsn: str, orders: range) -> None:
    counts = reservations(dsn)
    assert sorted(counts) == list(orders), f"missing: {sorted(set(orders) - set(counts))}"
    twice = {k: v for k, v in counts.items() if v != 1}
    assert not twice, f"reserved more than once: {twice}"


def ready_detail(runtime: Runtime) -> str:
    return runtime.health().detail
