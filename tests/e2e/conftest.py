"""Playwright + Debian's Chromium against pytest-django's live_server.

Playwright's own browser download cannot work here, so the system Chromium is used. Without
it the browser tests are skipped locally but FAIL under CI (env CI set): CI must not
silently skip them.
"""

import os
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "webapp"))  # webapp_factories

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@contextmanager
def watched_page(browser, live_server, **context_options):
    """A page of its own browser context on the live server, failing its test if any
    JavaScript error was raised on it."""
    context = browser.new_context(base_url=live_server.url, **context_options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


@pytest.fixture
def page(browser, live_server):
    with watched_page(browser, live_server, viewport={"width": 1280, "height": 800}) as page:
        yield page


@pytest.fixture
def discovery(seeded, tmp_path):
    """Settings for the discovery pages: sheets open at level 2, batches from 3 glitches."""
    seeded.GLITCHLAB_DISCOVERY_DIR = tmp_path / "discovery"
    seeded.GLITCHLAB_DISCOVERY_MIN_LEVEL = 2
    seeded.GLITCHLAB_BATCH_MIN = 3
    return seeded
