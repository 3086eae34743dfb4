"""What the browser tests share: Debian's headless Chromium through Playwright, and the skip-or-fail rule.

>>> from browser_support import require, chromium      # doctest: +SKIP
>>> require("voila")                                   # module level: skip (or fail when CI is set)  # doctest: +SKIP
>>> with chromium() as browser:                        # doctest: +SKIP
...     page = browser.new_page()

The browser is ``/usr/bin/chromium`` (``apt-get install chromium``; never ``playwright install``), each launch on
a fresh temporary profile that Playwright removes afterwards.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def missing(*modules: str) -> list[str]:
    """What a browser test lacks: Chromium, Playwright and each of ``modules``, with how to install it."""
    lacks = []
    if not CHROMIUM.exists():
        lacks.append(f"{CHROMIUM} (apt-get install -y chromium)")
    if importlib.util.find_spec("playwright") is None:
        lacks.append("playwright (pip install playwright; the browser is Debian's chromium)")
    lacks += [f"{m} (pip install -e '.[test]')" for m in modules if importlib.util.find_spec(m) is None]
    return lacks


def require(*modules: str) -> None:
    """Skip the calling test module when something is missing, with the reason; fail instead when CI is set."""
    lacks = missing(*modules)
    if not lacks:
        return
    reason = "browser tests need " + ", ".join(lacks)
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; CI is set, so they must run", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


@contextlib.contextmanager
def chromium():
    """A headless Chromium browser (Playwright's sync API), closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def voila(folder: Path, env: dict, log: Path, timeout: float = 120, extra=()):
    """Voila serving ``folder`` on a free port (its kernels get ``env``): yields the base URL; stopped on exit.

    >>> with voila(tmp_path, env, tmp_path / "voila.log") as base:       # doctest: +SKIP
    ...     urllib.request.urlopen(f"{base}/voila/render/03.ipynb")
    """
    port = free_port()
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "voila", "--no-browser", f"--port={port}",
                                 "--Voila.ip=127.0.0.1", *extra, str(folder)],
                                env=env, cwd=str(folder), stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(base + "/voila/tree", timeout=2)
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"voila did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
