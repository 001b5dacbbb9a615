"""Fixtures for the workbench tests: a headless Debian Chromium driven by Playwright for the e2e tests."""
import os

import pytest
from playwright.sync_api import sync_playwright

# The browser tests drive Chromium's headless shell (Debian's chromium-headless-shell, built from the same chromium
# source package as /usr/bin/chromium: the same Blink and V8, without the windowed browser's layers), as Playwright's
# own headless runs do. Measured on the 11 browser tests (2 workers, both binaries 156.0.8078.129): full browser
# 98.5 s user + 12.3 s sys, 110 s wall; headless shell 75.3 + 7.6 s, 78 s wall. One test (the proposer rating on a
# phone) runs in the full browser (`full_browser`), so that the windowed Chromium is still driven in every run.
# BANLI_CHROMIUM names another binary for all of them.
FULL_CHROMIUM = "/usr/bin/chromium"
HEADLESS_SHELL = "/usr/bin/chromium-headless-shell"
CHROMIUM = os.environ.get("BANLI_CHROMIUM") or (HEADLESS_SHELL if os.path.exists(HEADLESS_SHELL) else FULL_CHROMIUM)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def playwright():
    # The Playwright sync API runs an event loop in this thread; Django's ORM must still be allowed here.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        yield p


def _launch(playwright, executable: str):
    if not os.path.exists(executable):
        pytest.skip(f"{executable} is not installed (make test installs Debian's chromium and chromium-headless-shell "
                    "via scripts/system-deps.sh)")
    browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def browser(playwright):
    yield from _launch(playwright, CHROMIUM)


@pytest.fixture
def full_browser(playwright):
    """The windowed Chromium (/usr/bin/chromium, in its headless mode), for the test that checks it still works."""
    yield from _launch(playwright, os.environ.get("BANLI_CHROMIUM") or FULL_CHROMIUM)


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
