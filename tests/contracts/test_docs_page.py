"""The API page in a real browser: headless Chromium (Debian's ``chromium``) opens ``/docs`` with no
network but the loopback, and Swagger UI lists the app's operations from the served document."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from spine_core import BrokerOptions
from spine_core.options import BrokerConfig
from spine_memory import MemoryBroker
from spine_memory.plugin import MemoryPlugin

from . import kinds_app

CHROMIUM = "/usr/bin/chromium"


def chromium() -> str:
    """The browser; missing, the test fails on CI (``.ci/run`` installs it) and is skipped elsewhere."""
    found = CHROMIUM if os.access(CHROMIUM, os.X_OK) else shutil.which("chromium")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("no chromium on CI: .ci/run installs it (apt-get install chromium)", pytrace=False)
        pytest.skip("no chromium: apt-get install chromium")
    return found


@pytest.mark.timeout(120)
def test_the_api_page_lists_the_operations_in_headless_chromium(tmp_path: Path) -> None:
    """Swagger UI, served from the installed package, renders a block per operation of the app."""
    browser = chromium()
    options = kinds_app.options()
    options.address, options.broker = "127.0.0.1:0", BrokerOptions(name="memory")
    broker = MemoryPlugin(BrokerConfig.from_options(options), MemoryBroker())
    service = kinds_app.create_app().start(options, broker=broker)
    try:
        page = subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-dev-shm-usage",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000", "--dump-dom",
             f"http://127.0.0.1:{service.port}/docs"],
            capture_output=True, text=True, timeout=90,
        )
    finally:
        service.stop(timeout=5.0)
    dom = page.stdout
    assert "swagger-ui" in dom, page.stderr[-3000:]
    assert dom.count('class="opblock opblock-') >= 14, dom[-3000:]
    for template in ("/kinds/orders", "/kinds/search", "/kinds/items/{item_id}"):
        assert f'data-path="{template}"' in dom
    assert "Take a JSON body and answer it." in dom
    assert "Kinds" in dom and "2.3.4" in dom
