"""A real headless browser for the web app's tests: Debian's chromium,
driven by Playwright for Python (its own browser download is not used:
the machine reaches no CDN). Without chromium the tests skip, unless
AYLLU_REQUIRE_BROWSER is set, as .ci/run sets it: then they fail."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, sync_playwright

#: Flags for chromium in a container as root, with no network but loopback.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        if os.environ.get("AYLLU_REQUIRE_BROWSER"):
            pytest.fail("AYLLU_REQUIRE_BROWSER is set and no chromium is installed")
        pytest.skip("no chromium: install Debian's chromium to run the browser tests")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()
