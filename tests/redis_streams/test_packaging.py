"""spine-redis installs beside spine-core alone (no other broker) and is found as ``redis``."""

from __future__ import annotations

from pathlib import Path

from broker_checks import installed_alone


def test_installs_with_the_core_alone(tmp_path: Path) -> None:
    """In a fresh venv with only spine-core and spine-redis, ``SPINE_BROKER=redis`` finds the plugin."""
    report = installed_alone("spine_redis", "redis", tmp_path)
    assert (report["plugin"], report["settings"]["url"]) == ("RedisPlugin", "redis://127.0.0.1:6379/0")
