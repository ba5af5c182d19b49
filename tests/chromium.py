"""Headless Chromium for the browser tests (test_report_browser.py, test_explore_browser.py), via Selenium.

Use `start(extra_args, performance=False)` for a driver, and `missing()` for why none can run
here. `load_at_width` opens a page in a window of a given width and `resize` lays it out for
another; `layout_faults(driver)` then lists what reads wrong in its figures, from the boxes the
browser drew (no screenshot): text overlapping text, text clipped, an axis repeating a tick label.
Needs Debian's chromium and chromium-driver, which .ci/run installs; in CI (CI=true) their
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


# Every box that holds text in a Plotly figure, in screen pixels: each text element as the browser
# drew it (a rotated tick label keeps its slant, as four corners), the legend, the menu and the
# toolbar (shown on hover, over whatever lies beneath) each as one box. Then the faults a reader
# trips over: two boxes that overlap, a box past the figure's edge or the window's, a tick label
# Plotly hid because it ran past the figure, text cut short with an ellipsis, and an axis whose
# tick labels repeat (too few digits to tell them apart).
_LAYOUT = r"""
const TOL = 1;  // px two boxes may share: anti-aliased edges
const faults = [];
function corners(el) {
  if (el instanceof SVGGraphicsElement) {
    const b = el.getBBox(), m = el.getScreenCTM();
    if (!b.width || !b.height || !m) return null;
    return [[b.x, b.y], [b.x + b.width, b.y], [b.x + b.width, b.y + b.height], [b.x, b.y + b.height]]
      .map(([x, y]) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f]);
  }
  const r = el.getBoundingClientRect();
  if (!r.width || !r.height) return null;
  return [[r.left, r.top], [r.right, r.top], [r.right, r.bottom], [r.left, r.bottom]];
}
function overlap(a, b) {  // two convex quadrilaterals: separated along one of their edges' normals, or not
  for (const poly of [a, b]) for (let i = 0; i < 4; i++) {
    const [x0, y0] = poly[i], [x1, y1] = poly[(i + 1) % 4];
    const len = Math.hypot(x1 - x0, y1 - y0), nx = (y0 - y1) / len, ny = (x1 - x0) / len;
    const pa = a.map(([x, y]) => x * nx + y * ny), pb = b.map(([x, y]) => x * nx + y * ny);
    if (Math.min(Math.max(...pa), Math.max(...pb)) - Math.max(Math.min(...pa), Math.min(...pb)) <= TOL) return false;
  }
  return true;
}
const shown = el => getComputedStyle(el).display !== 'none';
const tickAxis = t => ((t.parentNode.getAttribute('class') || '').match(/^([xy]\d*)tick$/) || [])[1];
const page = document.documentElement.clientWidth;
document.querySelectorAll('.js-plotly-plot').forEach((gd, k) => {
  const name = `${(gd.closest('section') || {id: 'page'}).id}, figure ${k + 1}`;
  const edge = gd.querySelector('svg.main-svg').getBoundingClientRect();
  const boxes = [], ticks = {};
  const add = (el, what) => { const c = corners(el); if (c) boxes.push({what, c}); };
  gd.querySelectorAll('text').forEach(t => {
    const lines = Array.from(t.querySelectorAll('tspan.line'), line => line.textContent);
    const text = (lines.length ? lines.join(' ') : t.textContent).trim();
    if (!text || t.closest('.legend, .updatemenu-container, .hoverlayer')) return;
    const axis = tickAxis(t);
    if (axis && !shown(t)) { faults.push(`${name}: the tick label "${text}" is hidden: it ran past the edge`); return; }
    if (!shown(t)) return;
    const cls = t.getAttribute('class') || '';
    const what = axis ? `tick label "${text}"` : t.closest('.annotation') ? `title "${text}"`
               : /^[xy]\d*title$/.test(cls) ? `axis title "${text}"` : `text "${text}"`;
    if (/\u2026|\.\.\.$/.test(text)) faults.push(`${name}: the ${what} is cut short`);
    if (axis) {
      const seen = ticks[axis] = ticks[axis] || new Set();
      if (seen.has(text)) faults.push(`${name}: axis ${axis} repeats the tick label "${text}"`);
      seen.add(text);
    }
    add(t, what);
  });
  gd.querySelectorAll('.legend > .bg').forEach(l => add(l, 'legend'));
  gd.querySelectorAll('.updatemenu-header-group').forEach(m => add(m, 'menu'));
  gd.querySelectorAll('.modebar').forEach(m => add(m, 'toolbar'));
  for (const {what, c} of boxes) {
    const xs = c.map(p => p[0]), ys = c.map(p => p[1]);
    if (Math.min(...xs) < edge.left - TOL || Math.max(...xs) > edge.right + TOL
        || Math.min(...ys) < edge.top - TOL || Math.max(...ys) > edge.bottom + TOL)
      faults.push(`${name}: the ${what} is clipped by the figure's edge`);
    else if (Math.min(...xs) < -TOL || Math.max(...xs) > page + TOL)
      faults.push(`${name}: the ${what} runs past the window's edge`);
  }
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++)
      if (overlap(boxes[i].c, boxes[j].c)) faults.push(`${name}: the ${boxes[i].what} overlaps the ${boxes[j].what}`);
});
return faults;
"""
_LAID_OUT = """
const done = arguments[arguments.length - 1];
const plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
Promise.all(plots.map(p => Plotly.Plots.resize(p))).then(() => done(plots.length), e => done(String(e)));
"""


def load_at_width(driver, uri: str, width: int) -> int:
    """Open uri in a window `width` px wide, its figures laid out for that width; the number of figures."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.set_window_size(width, 1000)
    driver.get(uri)
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")
    return resize(driver, width)


def resize(driver, width: int) -> int:
    """Make the window `width` px wide and lay the page's figures out again for it; the number of figures."""
    driver.set_window_size(width, 1000)
    driver.set_script_timeout(60)
    drawn = driver.execute_async_script(_LAID_OUT)
    assert isinstance(drawn, int), f"the figures were not laid out: {drawn}"
    return drawn


def layout_faults(driver) -> list[str]:
    """What reads wrong in the laid-out figures of the driver's page, one line each (empty: nothing)."""
    return driver.execute_script(_LAYOUT)
