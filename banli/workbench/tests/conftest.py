"""Fixtures for the workbench tests: a headless Debian Chromium driven by Playwright for the e2e tests."""
import os
import shutil

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM) and not shutil.which("chromium"):
        pytest.skip("Debian chromium is not installed (make test installs it via scripts/system-deps.sh)")
    # The Playwright sync API runs an event loop in this thread; Django's ORM must still be allowed here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def artifacts_folder() -> str:
    """Where the workbench's screenshots go (BANLI_ARTIFACTS, else var/test-artifacts)."""
    base = os.environ.get("BANLI_ARTIFACTS") or os.path.join(os.getcwd(), "var", "test-artifacts")
    folder = os.path.join(base, "workbench")
    os.makedirs(folder, exist_ok=True)
    return folder


@pytest.fixture
def screenshots(artifacts_dir):
    folder = os.path.join(artifacts_dir, "workbench")
    os.makedirs(folder, exist_ok=True)

    def shoot(page, name):
        path = os.path.join(folder, f"{name}.png")
        page.screenshot(path=path, full_page=True)
        return path

    return shoot
