"""Shared pytest fixtures."""

from __future__ import annotations

import pytest

from tests.browser import browser_available, make_driver


@pytest.fixture
def browser(tmp_path_factory):
    """Offline headless Chromium (see tests/browser.py); skips when it is not installed."""
    if not browser_available():
        pytest.skip("chromium/chromedriver/selenium not installed")
    driver = make_driver(tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield driver
    finally:
        driver.quit()
