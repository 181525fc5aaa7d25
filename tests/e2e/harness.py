"""Helpers for the browser tests: a live server in a thread, browser pages, screenshots, log-in."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import BaseWSGIServer, make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(os.environ.get("SOUK_E2E_ARTIFACTS") or Path(__file__).resolve().parent / "artifacts")


@dataclass
class LiveServer:
    app: Flask
    url: str
    server: BaseWSGIServer
    thread: threading.Thread = field(repr=False)


def serve(app: Flask) -> LiveServer:
    """Serve ``app`` on a free loopback port in a thread (werkzeug, threaded)."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return LiveServer(app=app, url=f"http://127.0.0.1:{server.server_port}", server=server, thread=thread)


class Shots:
    """Numbered full-page screenshots of one test, kept as artifacts."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):  # an earlier run's numbering would interleave with this one's
            old.unlink()

    def take(self, page: Any, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
        except PlaywrightError:
            # Under a loaded CI box Chromium sometimes answers "Unable to capture screenshot" for a tall page.
            # The shot is evidence for people, not a check: keep the visible part instead of failing the test.
            page.screenshot(path=str(path))
        return path


def new_page(browser: Any, *, locale: str = "en-US", ignore_https_errors: bool = False) -> Any:
    """A fresh browser context (its own cookies) with one page, in ``locale``.

    ``ignore_https_errors`` lets the page open a test's own loopback TLS server (self-signed).
    """
    context = browser.new_context(
        locale=locale, viewport={"width": 1280, "height": 900}, ignore_https_errors=ignore_https_errors
    )
    return context.new_page()


def log_in(page: Any, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
