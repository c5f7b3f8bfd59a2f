"""Shared by the browser and API tests: Debian's chromium with the flags this closed network needs, and a
free loopback port. Never `playwright install`: Playwright drives /usr/bin/chromium."""
from __future__ import annotations

import socket
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium_browser():
    """Yields a headless Debian chromium driven by Playwright (for a module-scoped `browser` fixture); skips the
    test when /usr/bin/chromium is missing."""
    import pytest

    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()
