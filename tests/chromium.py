"""Headless Chromium for the browser tests (test_report_browser.py, test_explore_browser.py), via Selenium.

Use `start(extra_args, performance=False)` for a driver, and `missing()` for why none can run
here. Needs Debian's chromium and chromium-driver, which .ci/run installs; in CI (CI=true) their
absence fails a test, elsewhere it skips. Every driver has the network cut off (a host name
resolves to nothing but 127.0.0.1, so a fetch from elsewhere would fail) and keeps the console log; with
performance=True it keeps the network log too, to list every request the page made.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
ARGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")  # only this machine answers


def missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install '.[test]')"
    if not CHROMIUM or not CHROMEDRIVER:
        return "headless Chromium is not installed (apt-get install -y chromium chromium-driver; .ci/run does it)"
    return None


def require() -> None:
    """Skip (or, in CI, fail) the test when no headless Chromium can run."""
    why = missing()
    if why:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"browser test cannot run in CI: {why}")
        pytest.skip(why)


def start(extra_args: tuple[str, ...] = (), performance: bool = False):
    """A headless Chromium driver with a fresh profile; the caller ends it with stop()."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="trustsim-chromium-")
    for arg in (*ARGS, f"--user-data-dir={profile}", *extra_args):
        options.add_argument(arg)
    logs = {"browser": "ALL", **({"performance": "ALL"} if performance else {})}
    options.set_capability("goog:loggingPrefs", logs)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    driver.trustsim_profile = profile
    return driver


def stop(driver) -> None:
    driver.quit()
    shutil.rmtree(driver.trustsim_profile, ignore_errors=True)


def requested(driver) -> list[str]:
    """The URLs of every request and web socket the driver's pages opened since the last call."""
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
        elif message["method"] == "Network.webSocketCreated":
            urls.append(message["params"]["url"])
    return urls


def console_errors(driver) -> list[dict]:
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
