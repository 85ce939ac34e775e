"""Shared pytest fixtures."""

from __future__ import annotations

import os

import pytest

from tests.browser import browser_available, make_driver


@pytest.fixture
def browser(tmp_path_factory):
    """Offline headless Chromium (see tests/browser.py).

    Skipped on a machine without Chromium, but never in CI (CI=true), where `.ci/run` installs it.
    """
    if not browser_available():
        if os.environ.get("CI"):
            pytest.fail("CI needs chromium and chromium-driver: .ci/run installs them")
        pytest.skip("chromium/chromedriver/selenium not installed")
    driver = make_driver(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()
