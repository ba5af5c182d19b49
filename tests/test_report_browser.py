"""Every page trustsim writes, in a real browser: headless Chromium, driven through Selenium.

The pages: the run report of every preset (national_2020's with case files), of a run of three
steps and of a run whose values crowd their axes as real runs did; the comparison; the ensemble,
uncertainty and sensitivity pages; the posterior page; the calibration fit report. All are small
(what is tested is the page, not the model). Each must load from a file with the network cut off,
log no console error, and draw every plot it holds (an SVG with at least one trace). Laid out in a
window 1400 px wide and in one 900 px wide, no two text boxes of a figure may overlap, no text may
be clipped or cut short, and no axis may repeat a tick label: chromium.layout_faults measures the
boxes the browser drew. Needs Debian's chromium and chromium-driver, which .ci/run installs; in CI
(CI=true) their absence fails, elsewhere it skips.
"""

from __future__ import annotations

from pathlib import Path

import chromium
import numpy as np
import pandas as pd
import pytest

import trustsim
from trustsim.experiments import calibration as cal
from trustsim.experiments.ensembles import ensemble, sensitivity, uncertainty
from trustsim.report import build_report

SMALL = {"population.people": 2000, "run.years": 0.2}
TINY = {"people": 300, "years": 0.08}  # ensembles: 4 weekly steps a run
WIDTHS = (1400, 900)
REPORTS = ("national_2020", "sesame_2015", "financial_only", "judicial_lists")
PAGES = (*REPORTS, "three_steps", "close_values", "compare", "ensemble", "uncertainty", "sensitivity", "posterior",
         "calibration")


@pytest.fixture(scope="module")
def browser():
    chromium.require()
    driver = chromium.start()
    yield driver
    chromium.stop(driver)


@pytest.fixture(scope="module")
def inprocess():
    """A one-worker cluster inside the test process, for the ensembles' runs."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def close_values(result: trustsim.Result) -> trustsim.Result:
    """A run whose values crowd their axes as real runs did: a correlation near 0.08, scores within one point
    of 700 (judicial_lists), a measure on a few adults in a million, two measures that coincide step by step,
    and causes of wrongful sanctions of 0.19% and 0.05% beside one of 39%."""
    metrics = result.metrics.copy()
    everyone = metrics["group"] == "all"
    progress = metrics["step"].to_numpy(float) / max(1, metrics["step"].max())
    values = {"score_tie_correlation": 0.0795 + 0.001 * np.sin(6 * progress),
              "sanctioned_share.id_block": 2e-6 + 6e-6 * progress,
              "wrongful_by_cause.association": 0.39 + 0.01 * progress,
              "wrongful_by_cause.false_match": np.full_like(progress, 0.0019),
              "wrongful_by_cause.linkage_error": np.full_like(progress, 0.0005),
              "wrongful_sanction_share": 0.3924 + 0.01 * progress}
    values.update({metric: 699.4 + offset + 0.3 * progress for metric, offset in
                   (("score_mean", 0.0), ("score_p10", -0.6), ("score_p50", 0.2), ("score_p90", 0.6))})
    for metric, value in values.items():  # scores in every group too, so that the by-group panels crowd as well
        rows = (metrics["metric"] == metric).to_numpy() & (everyone.to_numpy() | metric.startswith("score_"))
        metrics.loc[rows, "value"] = value[rows]
    rail = metrics[metrics["metric"] == "sanctioned_share.rail_ban"].set_index(["step", "group"])["value"]
    flight = metrics["metric"] == "sanctioned_share.flight_ban"
    where = pd.MultiIndex.from_frame(metrics.loc[flight, ["step", "group"]])
    metrics.loc[flight, "value"] = rail.reindex(where).to_numpy()
    result.metrics = metrics
    return result


def fake_posterior(out: Path) -> Path:
    """The posterior page of national_2020, drawn by the real page code from a made-up outcome of plausible shape
    (a real posterior trains neural estimators for half a minute; the page's layout does not depend on the fit)."""
    from trustsim.experiments.ensembles.runner import RunCounts
    from trustsim.experiments.posterior import HEADLINE, Posterior
    from trustsim.experiments.posterior.pages import posterior_page

    rng = np.random.default_rng(0)
    scenario = trustsim.load_scenario("national_2020", {"population.people": 2000})
    obs = scenario.observations
    centre = {"score_mean": 640.0, "blacklist_share": 0.008, "wrongful_sanction_share": 0.35,
              "expressed_dissent_ratio": 0.3, "dissident_degree_ratio": 0.93}

    def quantiles(metric: str, spread: float) -> dict[str, float]:
        return {f"q{q:02d}": centre[metric] * (1 + spread * z) for q, z in ((5, -1), (50, 0), (95, 1))}

    headline = pd.DataFrame([{"metric": m, **{f"{est}_{k}": v for est, spread in (("prior", 0.4), ("npe", 0.2),
                                                                                 ("weighted", 0.25))
                                              for k, v in quantiles(m, spread).items()},
                              "agree": True, "comparable": True} for m in HEADLINE])
    fit = pd.DataFrame([{"figure": key, "kind": o.kind, "label": o.label, "metric": o.metric, "over": o.over,
                         "observed": o.value, "sd": o.sd, "scale": o.scale, "prior_q05": o.value / 3,
                         "prior_q50": o.value, "prior_q95": o.value * 3, "posterior_q05": o.value / 1.5,
                         "posterior_q50": o.value, "posterior_q95": o.value * 1.5, "weighted_q50": o.value,
                         "p_value": 0.4, "ruled_out": 0.3, "source": o.source, "reason": o.reason}
                        for key, o in obs.figures.items()])
    keys = sorted(scenario.uncertainty, key=len, reverse=True)  # the longest most narrowed: their marginals show
    contraction = dict(zip(keys, np.linspace(0.8, 0, len(keys))))
    parameters = pd.DataFrame([{"parameter": k, "prior_q05": r.lo, "prior_q95": r.hi, "posterior_q05": r.lo,
                                "posterior_q95": r.hi, "contraction": contraction[k]}
                               for k, r in scenario.uncertainty.items()])
    loo = pd.DataFrame([{"left_out": key, "metric": m, "estimate": est, "ess": 40.0, **quantiles(m, 0.3)}
                        for key in obs.figures for m in HEADLINE for est in ("neural", "weighted")])
    dates = pd.date_range(scenario.run.start, periods=scenario.run.steps, freq="7D")
    bands = pd.DataFrame([{"kind": kind, "metric": m, "grp": "all", "step": step, "date": date,
                           **{q: v * (step + 1) / len(dates) for q, v in quantiles(m, spread).items()}}
                          for kind, spread in (("prior", 0.4), ("posterior", 0.2), ("weighted", 0.25))
                          for m in HEADLINE for step, date in enumerate(dates)])
    diagnostics = {"ess": 40.0, "bank_runs": 1000.0, "training_runs": 900.0, "held_out": 100.0,
                   "coverage.overall": 0.9, "reproducible_share": 0.2, "train_seconds": 30.0, "disagreements": 0.0}
    counts = RunCounts(total=100, skipped=0, done=100, failed=0, lost=0)
    outcome = Posterior("p", scenario, obs, "bank", "predictive", counts, counts, headline, fit, parameters, loo,
                        {"threshold": float("nan"), "high_runs": 0, "box": None}, diagnostics,
                        "The record narrows most: the first assumptions.", [f"{keys[-1]}: narrowed by 0%"], bands)
    draws = {k: rng.beta(4, 4, 4000) for k in keys}
    bank = {k: rng.uniform(size=1000) for k in keys}
    return posterior_page(out, outcome, draws, bank)


@pytest.fixture(scope="module")
def pages(tmp_path_factory, inprocess) -> dict[str, Path]:
    """Every kind of page the project writes, at small sizes (what is tested is the layout)."""
    out = tmp_path_factory.mktemp("pages")
    made = {}
    for name in REPORTS:
        traced = {"run.trace": 100} if name == "national_2020" else {}  # the case files' plots too
        result = trustsim.simulate(trustsim.load_scenario(name, {**SMALL, **traced}), seed=1)
        made[name] = build_report(result, out / f"{name}.html")
        if name == "national_2020":
            made["close_values"] = build_report(close_values(result), out / "close_values.html")
    three = trustsim.simulate(trustsim.load_scenario("national_2020", {**SMALL, "run.years": 3 * 7 / 365.25}), seed=1)
    made["three_steps"] = build_report(three, out / "three_steps.html")
    trustsim.compare(["national_2020", "financial_only"], seeds=2, people=2000, years=0.1, out=out / "cmp")
    made["compare"] = out / "cmp" / "compare.html"

    made["ensemble"] = ensemble("national_2020", 3, scheduler=inprocess, out=out / "ens", **TINY).page
    made["uncertainty"] = uncertainty("national_2020", 4, 1, scheduler=inprocess, out=out / "unc", **TINY).page
    longest = sorted(trustsim.load_scenario("national_2020").uncertainty, key=len)[-3:]  # the widest labels
    made["sensitivity"] = sensitivity("national_2020", "morris", 2, only=longest, scheduler=inprocess,
                                      out=out / "sens", **TINY).page
    made["posterior"] = fake_posterior(out / "post")
    fitted = cal.calibrate("judicial_lists", trials=2, people=1500, seed=3)
    made["calibration"] = out / cal.REPORT
    made["calibration"].write_text(cal.report_html(fitted.fit, fitted), encoding="utf-8")
    return made


DRAWN = """
return Array.from(document.querySelectorAll('.js-plotly-plot')).map(p => ({
  id: p.id,
  svg: p.querySelectorAll('svg.main-svg').length,
  traces: p.querySelectorAll('.scatterlayer .trace, .barlayer .trace, .boxlayer .trace').length,
}));
"""
RESOURCES = "return performance.getEntriesByType('resource').map(e => e.name);"


@pytest.mark.parametrize("page", PAGES)
def test_page_draws_every_plot_and_no_text_overlaps_is_clipped_or_repeats_a_tick(browser, pages, page):
    from selenium.webdriver.support.ui import WebDriverWait

    path = pages[page]
    expected = path.read_text().count('class="plotly-graph-div"')
    assert expected >= (4 if page in REPORTS else 1)
    browser.get_log("browser")  # drop what earlier pages logged
    chromium.load_at_width(browser, path.as_uri(), WIDTHS[0])
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

    faults = []
    for width in WIDTHS:
        chromium.resize(browser, width)
        faults += [f"at {width} px, {fault}" for fault in chromium.layout_faults(browser)]
    assert not faults, "\n".join(faults)


def test_coinciding_lines_and_small_causes_both_show(browser, pages):
    """Train and flight bans on one line: the second is dashed and its legend says so. Causes of 0.19% and 0.05%
    of the sanctioned beside one of 39%: a log-scale panel draws each where it reads."""
    chromium.load_at_width(browser, pages["close_values"].as_uri(), WIDTHS[1])
    seen = browser.execute_script("""
    const sanctions = document.querySelector('#sanctions .js-plotly-plot');
    const wrongful = document.querySelector('#wrongful .js-plotly-plot');
    const legend = Array.from(sanctions.querySelectorAll('.legendtext'), t => t.textContent);
    const ban = sanctions._fullData.find(t => t.name.startsWith('train ban'));
    const log = wrongful._fullData.filter(t => wrongful._fullLayout[t.yaxis.replace('y', 'yaxis')].type === 'log');
    return {legend, dash: ban.line.dash, causes: log.map(t => [t.name, Math.min(...t.y.filter(Number.isFinite))])};
    """)
    assert "train ban (dashed: on the flight ban line)" in seen["legend"] and seen["dash"] == "dash"
    causes = dict(seen["causes"])
    assert causes["false face-recognition match"] == pytest.approx(0.0019)
    assert causes["record linked to the wrong person"] == pytest.approx(0.0005)


def test_the_layout_check_finds_each_kind_of_fault(browser, tmp_path):
    """The check itself: a figure built to have every fault is charged with each."""
    from plotly.subplots import make_subplots

    from trustsim.report.plots import CONFIG

    fig = make_subplots(rows=1, cols=2, subplot_titles=["a title long enough to run into the next one"] * 2)
    fig.add_scatter(x=[0, 1], y=[0.079, 0.081], row=1, col=1, name="a legend entry")
    fig.add_bar(x=["a category far too long for its place", "b"], y=[1, 2], row=1, col=2)
    fig.update_yaxes(tickformat=".0f", row=1, col=1)
    fig.update_yaxes(title_text="an axis title much longer than the figure is tall, so it runs off", row=1, col=2)
    fig.update_layout(height=260, width=500, margin=dict(l=20, r=0, t=40, b=10), showlegend=True,
                      legend=dict(x=0.9, y=1.3, orientation="h"))
    page = tmp_path / "faulty.html"
    page.write_text(fig.to_html(include_plotlyjs=True, config=CONFIG), encoding="utf-8")
    chromium.load_at_width(browser, page.as_uri(), 900)
    faults = "\n".join(chromium.layout_faults(browser))
    assert "overlaps the title" in faults
    assert 'repeats the tick label "0"' in faults
    assert "clipped by the figure's edge" in faults
    assert "the legend overlaps the toolbar" in faults


def test_the_group_menu_switches_the_metric_and_each_choice_reads_right(browser, pages):
    """Each metric of the menu shows its own five bars, and its axes (the menu changes their format) have no
    layout fault at either width."""
    chromium.load_at_width(browser, pages["national_2020"].as_uri(), WIDTHS[0])
    buttons = browser.execute_script(
        "return document.querySelector('#groups .js-plotly-plot').layout.updatemenus[0].buttons.length")
    assert buttons >= 4
    shown, faults = [], []
    for width in WIDTHS:
        chromium.resize(browser, width)
        for k in range(buttons):
            browser.set_script_timeout(60)
            # choose metric k, as a click on the menu does
            shown.append(browser.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const p = document.querySelector('#groups .js-plotly-plot');
            const button = p.layout.updatemenus[0].buttons[arguments[0]];
            Plotly.update(p, button.args[0], button.args[1]).then(
              () => done(p.data.map((t, i) => t.visible === false ? -1 : i).filter(i => i >= 0)));
            """, k))
            faults += [f"at {width} px, choice {k + 1}: {fault}" for fault in chromium.layout_faults(browser)
                       if fault.startswith("groups")]
    assert all(len(visible) == 5 for visible in shown) and len({tuple(v) for v in shown}) == buttons
    assert not chromium.console_errors(browser)
    assert not faults, "\n".join(faults)
