"""The plugin's settings (``SPINE_REDIS_*``) and the clients made from them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

import redis
from attrs import field, frozen
from redis.backoff import NoBackoff
from redis.retry import Retry

from spine_core.broker import BootError, SettingsReader, protect, redact

DEFAULT_URL: Final = "redis://127.0.0.1:6379/0"
KEYS: Final = frozenset({"url", "maxlen", "claim.idle", "batch", "workers", "max.pending"})


@frozen(kw_only=True)
class RedisSettings:
    """Settings of the ``redis`` plugin, read from ``BrokerConfig.settings``.

    Keys (environment variable → key): ``SPINE_REDIS_URL`` → ``url``,
    ``..._MAXLEN`` → ``maxlen`` (approximate stream length kept on publish; 0: no trimming),
    ``..._CLAIM_IDLE`` → ``claim.idle`` (seconds an entry stays pending with a silent member
    before another member claims it), ``..._BATCH`` → ``batch`` (entries per read),
    ``..._WORKERS`` → ``workers``, ``..._MAX_PENDING`` → ``max.pending`` (entries read but not settled).
    """

    url: str = field(default=DEFAULT_URL, repr=redact)
    maxlen: int = 0
    claim_idle: float = 30.0
    batch: int = 100
    workers: int = 8
    max_pending: int = 1000

    @classmethod
    def from_settings(cls, settings: Mapping[str, str]) -> RedisSettings:
        """Validate ``settings``; unknown keys and bad values are BootErrors."""
        protect(settings)  # done by the core too; a plugin made directly (tests) is covered as well
        read, default = SettingsReader("redis", settings), cls()
        read.check_known(KEYS)
        parsed = cls(
            url=read.text("url", default.url),
            maxlen=read.integer("maxlen", default.maxlen, minimum=0),
            claim_idle=read.seconds("claim.idle", default.claim_idle, positive=True),
            batch=read.integer("batch", default.batch, minimum=1),
            workers=read.integer("workers", default.workers, minimum=1),
            max_pending=read.integer("max.pending", default.max_pending, minimum=1),
        )
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
            raise BootError(redact(f"redis url {self.url!r} is invalid: {e}")) from None
