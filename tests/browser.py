"""Headless Chromium for page tests: offline (network blocked), console captured.

Tests that open rendered atlas pages share this so every page is checked the same way:
nothing may be fetched over http(s), and the browser console must stay free of errors.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

CHROMIUM = Path(os.environ.get("ATLAS_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("ATLAS_CHROMEDRIVER", "/usr/bin/chromedriver"))
BLOCKED_URLS = ["http://*", "https://*"]


def browser_available() -> bool:
    """True when Chromium, its driver and selenium are all installed."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return CHROMIUM.is_file() and CHROMEDRIVER.is_file()


def make_driver(profile_dir: Path, width: int = 1024, height: int = 768):
    """Start headless Chromium with http(s) blocked via DevTools, console + network logging on.

    The explicit driver path keeps selenium-manager from trying to download a driver.
    Caller must call driver.quit().
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        f"--user-data-dir={profile_dir}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": BLOCKED_URLS})
    except Exception:
        driver.quit()
        raise
    return driver


def severe_console_entries(driver) -> list[dict]:
    """Console entries at SEVERE level since the last call (reading the log drains it)."""
    return [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


def requested_urls(driver) -> list[str]:
    """URLs the page asked for since the last call, blocked or not (drains the perf log).

    Blocked fetches of images/styles don't always reach the console, so offline tests
    should assert on this too.
    """
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls
