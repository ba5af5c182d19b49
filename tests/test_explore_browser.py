"""The explorer in a real browser: `trustsim explore` as a server, headless Chromium as its user.

A lever is moved, Run pressed, the plots drawn and, after another change, redrawn; the console
stays free of errors and no request leaves 127.0.0.1. Two tabs running at once leave the server
alive (Numba aborts the process when two threads enter a parallel kernel together). With
TRUSTSIM_SCREENSHOTS=1 the first test rewrites docs/img/explore.png, the picture in docs/explore.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import chromium
import pytest

from trustsim.explore.server import free_port

PEOPLE = 3000
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "img" / "explore.png"
PLOTS = """
return Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => ({
  svg: p.querySelectorAll('svg.main-svg').length,
  traces: p.querySelectorAll('.scatterlayer .trace, .barlayer .trace').length,
  data: JSON.stringify((p.data || []).map(t => t.y)),
}));
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`trustsim explore` on a free port, in its own process group; its URL and process."""
    chromium.require()
    port = free_port()
    log = tmp_path_factory.mktemp("explore") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "trustsim", "explore", "national_2020", "--port", str(port),
                                 "--people", str(PEOPLE)], stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=5) as reply:
                if reply.read() == b"ok":
                    break
        except OSError:
            pass
        assert proc.poll() is None, f"the server stopped: {log.read_text()}"
        assert time.monotonic() < deadline, f"the server did not start: {log.read_text()}"
        time.sleep(0.5)
    assert f"at {url}" in log.read_text()  # it printed its address
    yield url, proc, log
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(server):
    driver = chromium.start(performance=True)
    yield driver
    chromium.stop(driver)


def wait(driver, condition, seconds: float = 300):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, poll_frequency=0.5).until(condition)


def open_page(driver, url: str) -> None:
    driver.get(url)
    wait(driver, lambda d: len(d.find_elements("css selector", "input[type=range]")) > 10, 120)


def move(driver, label: str, key: str) -> None:
    """Move the slider whose label starts with `label` to one end ("HOME" or "END"), as the keyboard does."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    (slider,) = [s for s in driver.find_elements("css selector", "input[type=range]")
                 if s.get_attribute("aria-label").startswith(label)]
    driver.execute_script("arguments[0].focus()", slider)
    ActionChains(driver).send_keys(getattr(Keys, key)).perform()


def press_run(driver) -> None:
    driver.find_element("css selector", '[data-testid="stFormSubmitButton"] button').click()


def drawn(driver, before: list | None = None) -> list:
    """The three plots once each is drawn with data (and, given `before`, with other data than then)."""
    def ready(d):
        plots = d.execute_script(PLOTS)
        if len(plots) != 3 or any(p["svg"] == 0 or p["traces"] == 0 for p in plots):
            return False
        if before is not None and [p["data"] for p in plots] == [p["data"] for p in before]:
            return False
        return plots
    return wait(driver, ready)


def off_machine(urls: list[str]) -> list[str]:
    """Requests to any host but 127.0.0.1 (the browser's own chrome:, data: and blob: URLs aside)."""
    return [u for u in urls if urlparse(u).scheme in ("http", "https", "ws", "wss") and urlparse(u).hostname != "127.0.0.1"]


def test_move_a_lever_run_and_the_plots_redraw(server, browser):
    url, proc, _ = server
    open_page(browser, url)
    move(browser, "Appeals made", "END")
    move(browser, "Appeals that succeed", "END")
    press_run(browser)
    first = drawn(browser)
    metrics = browser.find_elements("css selector", '[data-testid="stMetric"]')
    assert len(metrics) >= 4 and "sanctioned wrongly" in browser.page_source
    if os.environ.get("TRUSTSIM_SCREENSHOTS") == "1":
        browser.set_window_size(1400, 1500)
        browser.execute_script("document.querySelectorAll('*').forEach(e => { if (e.scrollTop) e.scrollTop = 0; });")
        time.sleep(2)  # let the plots take the new width
        browser.save_screenshot(str(SCREENSHOT))
        browser.set_window_size(1280, 1000)
    move(browser, "Surveillance cameras", "HOME")
    press_run(browser)
    drawn(browser, before=first)
    assert proc.poll() is None
    assert not chromium.console_errors(browser)
    urls = chromium.requested(browser)
    assert any(u.startswith(f"{url.replace('http', 'ws')}/") for u in urls)  # the page did talk to the server
    assert not off_machine(urls), f"requests beyond this machine: {off_machine(urls)}"


def test_two_tabs_running_at_once_keep_the_server_alive(server, browser):
    url, proc, log = server
    open_page(browser, url)
    first = browser.current_window_handle
    move(browser, "Chilling of speech", "HOME")
    browser.switch_to.new_window("tab")
    second = browser.current_window_handle
    open_page(browser, url)
    move(browser, "Distancing from low scorers", "HOME")
    press_run(browser)
    browser.switch_to.window(first)
    press_run(browser)  # two new runs asked for at once, from two sessions
    for handle in (first, second):
        browser.switch_to.window(handle)
        drawn(browser)
        assert not browser.find_elements("css selector", '[data-testid="stAlertContentError"]')
    assert proc.poll() is None, log.read_text()
    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as reply:
        assert reply.read() == b"ok"
    assert not chromium.console_errors(browser)
    assert not off_machine(chromium.requested(browser))
