"""The plugin's settings (``SPINE_REDIS_*``) and the clients made from them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlsplit

import redis
from attrs import frozen
from redis.backoff import NoBackoff
from redis.retry import Retry

from spine_core.broker import BootError

DEFAULT_URL: Final = "redis://127.0.0.1:6379/0"


@frozen(kw_only=True)
class RedisSettings:
    """Settings of the ``redis`` plugin, read from ``BrokerConfig.settings``.

    Keys (environment variable → key): ``SPINE_REDIS_URL`` → ``url``,
    ``..._MAXLEN`` → ``maxlen`` (approximate stream length kept on publish; 0: no trimming),
    ``..._CLAIM_IDLE`` → ``claim.idle`` (seconds an entry stays pending with a silent member
    before another member claims it), ``..._BATCH`` → ``batch`` (entries per read),
    ``..._WORKERS`` → ``workers``, ``..._MAX_PENDING`` → ``max.pending`` (entries read but not settled).
    """

    url: str = DEFAULT_URL
    maxlen: int = 0
    claim_idle: float = 30.0
    batch: int = 100
    workers: int = 8
    max_pending: int = 1000

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> RedisSettings:
        """Validate ``settings``; unknown keys and bad values are BootErrors."""
        known = {"url": "url", "maxlen": "maxlen", "claim.idle": "claim_idle", "batch": "batch",
                 "workers": "workers", "max.pending": "max_pending"}
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise BootError(f"unknown redis setting(s) {unknown}; known: {sorted(known)}")
        values: dict[str, Any] = {known[k]: v for k, v in settings.items()}
        for key, minimum in (("maxlen", 0), ("batch", 1), ("workers", 1), ("max_pending", 1)):
            if key in values:
                values[key] = _int(key, values[key], minimum)
        if "claim_idle" in values:
            values["claim_idle"] = _seconds(values["claim_idle"])
        parsed = cls(**values)
        parsed.client(1.0)  # a bad URL fails at boot, not at the first publish
        return parsed

    @property
    def address(self) -> str:
        """``host:port/db`` of ``url``, without its credentials: for health and logs."""
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"

    def client(self, timeout: float, retries: int = 1) -> redis.Redis:
        """A client whose commands fail after ``timeout`` seconds; a command that lost its
        connection is sent again ``retries`` times at once (a pooled connection may be stale)."""
        try:
            return redis.Redis.from_url(
                self.url, socket_timeout=timeout, socket_connect_timeout=min(timeout, 5.0),
                retry=Retry(NoBackoff(), retries), client_name="spine",
            )
        except ValueError as e:
            raise BootError(f"redis url {self.url!r} is invalid: {e}") from None


def _int(key: str, value: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        number = minimum - 1
    if number < minimum:
        raise BootError(f"redis {key.replace('_', '.')} must be an integer >= {minimum}, got {value!r}")
    return number


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise BootError(f"redis claim.idle must be a positive number of seconds, got {value!r}")
    return seconds
