"""Every Python example in README.md and docs/ runs, so the documentation cannot drift from the code.

A ```python block runs as a script, in a directory of its page's own where the page's
blocks run in order, unless an HTML comment right before it says otherwise (directives
separated by ``;``)::

    <!-- example: file NAME -->     write the block to NAME (it must import); later blocks import it
    <!-- example: pytest -->        run the block with pytest; it must collect tests and pass
    <!-- example: serve METHOD PATH -> TEXT -->
                                    run the block as a service on a free port (SPINE_ADDRESS),
                                    send METHOD PATH, wait for TEXT in its output, then SIGTERM
                                    it: it must answer 2xx and exit 0

A block that is not meant to run (a configuration excerpt) goes in another fence (ini, sh, text).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from attrs import frozen

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"(?:^<!--\s*example:\s*(?P<directives>.*?)\s*-->\n(?:\n)?)?^```(?:python|py)\n(?P<code>.*?)^```$",
                   re.M | re.S)
SERVE = re.compile(r"(?P<method>[A-Z]+) (?P<path>\S+) -> (?P<text>.+)")
DEADLINE = 60.0


@frozen
class Example:
    page: Path
    line: int
    code: str
    directives: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def examples(page: Path) -> list[Example]:
    text = page.read_text()
    found = []
    for m in BLOCK.finditer(text):
        directives = tuple(d.strip() for d in (m.group("directives") or "").split(";") if d.strip())
        line = text.count("\n", 0, m.start("code"))
        found.append(Example(page, line, m.group("code"), directives))
    return found


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without SPINE_* (an example must not depend on the caller's), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPINE_")}
    return {**env, **extra}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_script(example: Example, path: Path) -> None:
    done = subprocess.run([sys.executable, path.name], cwd=path.parent, env=clean_env(), capture_output=True,
                          text=True, timeout=DEADLINE)
    assert done.returncode == 0, f"{example} failed:\n{done.stdout}{done.stderr}"


def import_module(example: Example, path: Path) -> None:
    """A file block at least imports (its ``__main__`` part is run by a ``serve`` directive)."""
    done = subprocess.run([sys.executable, "-c", f"import {path.stem}"], cwd=path.parent, env=clean_env(),
                          capture_output=True, text=True, timeout=DEADLINE)
    assert done.returncode == 0, f"{example} does not import:\n{done.stdout}{done.stderr}"


def run_pytest(example: Example, path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path.name],
                          cwd=path.parent, env=clean_env(), capture_output=True, text=True, timeout=DEADLINE)
    assert done.returncode == 0, f"{example}'s tests failed:\n{done.stdout}{done.stderr}"
    assert re.search(r"\d+ passed", done.stdout), done.stdout


def serve(example: Example, path: Path, directive: str) -> None:
    m = SERVE.fullmatch(directive)
    assert m, f"{example}: 'serve' wants 'METHOD PATH -> TEXT', got {directive!r}"
    port = free_port()
    proc = subprocess.Popen([sys.executable, path.name], cwd=path.parent, text=True,
                            env=clean_env(SPINE_ADDRESS=f"127.0.0.1:{port}"),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output: list[str] = []
    threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True).start()

    def wait_for(text: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not any(text in line for line in list(output)):
            assert proc.poll() is None, f"{example} exited before logging {text!r}:\n{''.join(output)}"
            assert time.monotonic() < deadline, f"{example} did not log {text!r}:\n{''.join(output)}"
            time.sleep(0.02)

    try:
        wait_for("listening on")
        request = urllib.request.Request(f"http://127.0.0.1:{port}{m['path']}", method=m["method"])
        with urllib.request.urlopen(request, timeout=10) as response:
            assert 200 <= response.status < 300
        wait_for(m["text"])
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, f"{example} did not exit 0 on SIGTERM:\n{''.join(output)}"
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_block_of_the_page_runs(page: Path, tmp_path: Path) -> None:
    for n, example in enumerate(examples(page)):
        name = f"example_{n}.py"
        actions = []
        for directive in example.directives:
            verb, _, rest = directive.partition(" ")
            if verb == "file":
                name = rest.strip()
            actions.append((verb, rest.strip()))
        path = tmp_path / name
        path.write_text(example.code)
        verbs = [verb for verb, _ in actions]
        assert set(verbs) <= {"file", "pytest", "serve"}, f"{example}: unknown directive in {example.directives}"
        if "pytest" in verbs:
            run_pytest(example, path)
        elif "serve" in verbs:
            serve(example, path, dict(actions)["serve"])
        elif "file" in verbs:
            import_module(example, path)
        else:
            run_script(example, path)


def test_every_python_fence_is_found() -> None:
    """A ```python fence the pattern misses (indented, in a list) would silently go untested."""
    for page in PAGES:
        fences = len(re.findall(r"^\s*```(?:python|py)\s*$", page.read_text(), re.M))
        assert fences == len(examples(page)), f"{page}: a python fence is indented or malformed"
