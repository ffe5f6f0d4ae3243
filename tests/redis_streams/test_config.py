"""The plugin's settings: defaults, ``SPINE_REDIS_*`` variables, and bad values refused at boot."""

from __future__ import annotations

import pytest

from spine_core import Options
from spine_core.errors import BootError
from spine_core.options import BrokerConfig
from spine_core.plugins import installed
from spine_redis.config import DEFAULT_URL, RedisSettings


def test_defaults() -> None:
    settings = RedisSettings.from_settings({})
    assert settings.url == DEFAULT_URL == "redis://127.0.0.1:6379/0"
    assert (settings.maxlen, settings.claim_idle, settings.batch) == (0, 30.0, 100)


def test_environment_variables_map_to_settings() -> None:
    env = {"SPINE_BROKER": "redis", "SPINE_REDIS_URL": "redis://cache:6380/2", "SPINE_REDIS_MAXLEN": "100000",
           "SPINE_REDIS_CLAIM_IDLE": "2.5", "SPINE_REDIS_BATCH": "50", "SPINE_REDIS_WORKERS": "4",
           "SPINE_REDIS_MAX_PENDING": "200"}
    config = BrokerConfig.from_options(Options().with_env(env))
    settings = RedisSettings.from_settings(config.settings)
    assert config.name == "redis"
    assert settings == RedisSettings(url="redis://cache:6380/2", maxlen=100000, claim_idle=2.5, batch=50,
                                     workers=4, max_pending=200)


@pytest.mark.parametrize(("settings", "message"), [
    ({"streams": "x"}, "unknown redis setting(s) ['streams']"),
    ({"maxlen": "-1"}, "redis maxlen must be an integer of at least 0, got '-1'"),
    ({"batch": "many"}, "redis batch must be an integer of at least 1, got 'many'"),
    ({"claim.idle": "0"}, "redis claim.idle must be a positive number of seconds, got '0'"),
    ({"url": "http://127.0.0.1:6379"}, "redis url 'http://127.0.0.1:6379' is invalid"),
])
def test_bad_settings_are_boot_errors(settings: dict[str, str], message: str) -> None:
    with pytest.raises(BootError) as error:
        RedisSettings.from_settings(settings)
    assert message in str(error.value)


def test_installed_as_the_redis_plugin() -> None:
    assert installed()["redis"].value == "spine_redis.plugin:RedisPlugin"


def test_address_leaves_out_credentials() -> None:
    settings = RedisSettings.from_settings({"url": "redis://spine:s3cret@cache.internal:6380/2"})
    assert settings.address == "cache.internal:6380/2"
    assert RedisSettings().address == "127.0.0.1:6379/0"
