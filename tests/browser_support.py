"""Shared by the browser and API tests: Debian's chromium with the flags this closed network needs, and a
free loopback port. Never `playwright install`: Playwright drives /usr/bin/chromium."""
from __future__ import annotations

import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

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


def open_app(page, url: str, quiet_ms: int = 500, timeout_s: float = 90.0) -> None:
    """Go to the app and wait until its page has loaded and no request has been open for `quiet_ms`:
    Playwright's "networkidle", minus gradio's session heartbeat (an event stream gradio keeps open for as
    long as the page lives whenever the app holds per-session state, so "networkidle" never comes)."""
    import time

    open_requests: set = set()

    def started(request) -> None:
        if "/heartbeat/" not in request.url:
            open_requests.add(request)

    def ended(request) -> None:
        open_requests.discard(request)

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    try:
        page.goto(url, wait_until="load")
        deadline, quiet_since = time.monotonic() + timeout_s, None
        while True:
            now = time.monotonic()
            if open_requests:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif (now - quiet_since) * 1000 >= quiet_ms:
                return
            if now > deadline:
                raise AssertionError(f"{url}: requests still open after {timeout_s:.0f} s: "
                                     f"{sorted(r.url for r in open_requests)[:5]}")
            page.wait_for_timeout(50)
    finally:
        page.remove_listener("request", started)
        page.remove_listener("requestfinished", ended)
        page.remove_listener("requestfailed", ended)


@contextmanager
def served_app(settings, warm: bool = False) -> Iterator[tuple[str, object]]:
    """The app for `settings` on a free loopback port, as app.py serves it (its launch options); yields (url,
    demo) and closes the server and its store afterwards. `warm`: run app.py's warm-up (models, then a tiny
    diagnosis) once the page is served, so the first diagnosis is a warm one."""
    from evalverse.ui.app import build_app, launch_options

    demo = build_app(settings)
    port = free_port()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True,
                **launch_options(settings))
    try:
        if warm:
            from evalverse.ui.diagnose_session import warm_up

            warm_up(settings, demo.evalverse_context.taxonomy)
        yield f"http://127.0.0.1:{port}/", demo
    finally:
        demo.close()
        demo.evalverse_context.store.close()
