"""A live portal served on localhost and Debian's Chromium driven by Playwright."""
from __future__ import annotations

import shutil
import threading

import pytest
from werkzeug.serving import make_server

from portal import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="session")
def live_url(app):
    live = create_app({"SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"], "SECRET_KEY": "live",
                       "WTF_CSRF_ENABLED": True, "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"]})
    server = make_server("127.0.0.1", 0, live, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_url):
    context = browser.new_context(viewport={"width": 1300, "height": 900}, locale="zh-CN")
    outside = []
    context.on("request", lambda r: outside.append(r.url) if not r.url.startswith(live_url)
               and not r.url.startswith("data:") else None)
    page = context.new_page()
    page.live_url = live_url
    yield page
    context.close()
    assert outside == [], f"pages loaded something from outside: {outside}"
