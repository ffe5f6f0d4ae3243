"""spine-redis installs beside spine-core alone (no other broker) and is found as ``redis``."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from test_packaging import Venv, runtime_modules

REPORT = """
    import json, pathlib
    import spine_redis
    from spine_core import BrokerOptions, Options, Spine
    from spine_core.plugins import installed
    runtime = Spine().runtime(Options(http=None, broker=BrokerOptions(name="redis")))
    print(json.dumps({
        "file": spine_redis.__file__,
        "py_typed": (pathlib.Path(spine_redis.__file__).parent / "py.typed").is_file(),
        "brokers": sorted(installed()),
        "plugin": type(runtime.broker).__name__,
        "url": runtime.broker.settings.url,
    }))
"""


def test_installs_with_the_core_alone(tmp_path: Path) -> None:
    """In a fresh venv with only spine-core and spine-redis, ``SPINE_BROKER=redis`` finds the plugin."""
    venv = Venv(tmp_path / "venv")
    deps = venv.path / "deps"
    for name in runtime_modules(["spine_redis"]):  # redis-py, linked from this interpreter
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None, f"{name} is not installed"
        source = Path(spec.origin)
        source = source.parent if source.name == "__init__.py" else source
        if not (deps / source.name).exists():
            (deps / source.name).symlink_to(source)
    for dist in ("spine_core", "spine_redis"):
        venv.install(dist, tmp_path)
    report = json.loads(venv.run(REPORT))
    assert report["file"].startswith(str(venv.path)) and report["py_typed"]
    assert report["brokers"] == ["redis"]
    assert (report["plugin"], report["url"]) == ("RedisPlugin", "redis://127.0.0.1:6379/0")
