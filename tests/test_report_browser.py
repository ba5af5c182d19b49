"""The report and the comparison page in a real browser: headless Chromium, driven through Selenium.

Each page must load from a file with the network cut off, log no console error, and draw every
plot it holds (an SVG with at least one trace). Needs Debian's chromium and chromium-driver, which
.ci/run installs; in CI (CI=true) their absence fails, elsewhere it skips.
"""

from __future__ import annotations

from pathlib import Path

import chromium
import pytest

import trustsim
from trustsim.report import build_report

@pytest.fixture(scope="module")
def browser():
    chromium.require()
    driver = chromium.start()
    yield driver
    chromium.stop(driver)


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, Path]:
    """A report of national_2020 (every section), of sesame_2015 (sections skipped), and a comparison."""
    out = tmp_path_factory.mktemp("pages")
    small = {"population.people": 2000, "run.years": 0.2}
    made = {}
    for name in ("national_2020", "sesame_2015"):
        result = trustsim.simulate(trustsim.load_scenario(name, small), seed=1)
        made[name] = build_report(result, out / f"{name}.html")
    trustsim.compare(["national_2020", "financial_only"], seeds=2, people=2000, years=0.1, out=out / "cmp")
    made["compare"] = out / "cmp" / "compare.html"
    return made


DRAWN = """
return Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => ({
  id: p.id,
  svg: p.querySelectorAll('svg.main-svg').length,
  traces: p.querySelectorAll('.scatterlayer .trace, .barlayer .trace').length,
}));
"""
RESOURCES = "return performance.getEntriesByType('resource').map(e => e.name);"


@pytest.mark.parametrize("page", ["national_2020", "sesame_2015", "compare"])
def test_page_loads_without_errors_and_draws_every_plot(browser, pages, page):
    from selenium.webdriver.support.ui import WebDriverWait

    path = pages[page]
    expected = path.read_text().count('class="plotly-graph-div"')
    assert expected >= (3 if page == "compare" else 4)
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(path.as_uri())
    WebDriverWait(browser, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")
    WebDriverWait(browser, 60).until(
        lambda d: sum(p["svg"] > 0 for p in d.execute_script(DRAWN)) == expected)
    plots = browser.execute_script(DRAWN)
    assert len(plots) == expected
    empty = [p["id"] for p in plots if p["svg"] == 0 or p["traces"] == 0]
    assert not empty, f"plots drawn without data: {empty}"
    errors = chromium.console_errors(browser)
    assert not errors, f"console errors: {errors}"
    fetched = [name for name in browser.execute_script(RESOURCES) if not name.startswith(("file:", "data:", "blob:"))]
    assert not fetched, f"the page loaded from the network: {fetched}"


def test_the_group_menu_switches_the_metric(browser, pages):
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(pages["national_2020"].as_uri())
    WebDriverWait(browser, 60).until(lambda d: d.execute_script(
        "return document.querySelector('#groups .js-plotly-plot .main-svg') !== null"))
    shown = """
    const p = document.querySelector('#groups .js-plotly-plot');
    return p.data.map((t, i) => t.visible === false ? -1 : i).filter(i => i >= 0);
    """
    before = browser.execute_script(shown)
    # choose the second metric of the menu, as a click on it does
    browser.execute_script("""
    const p = document.querySelector('#groups .js-plotly-plot');
    const button = p.layout.updatemenus[0].buttons[1];
    return Plotly.update(p, button.args[0], button.args[1]);
    """)
    after = browser.execute_script(shown)
    assert len(before) == len(after) == 5 and before != after
    assert not chromium.console_errors(browser)
