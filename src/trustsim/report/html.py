"""The self-contained HTML report of one run: what was simulated, what it did, and the plots.

Use `build_report(result_or_dir, path)` to write it; plotly.js is embedded once, inline, so the
file opens anywhere without a network. The summary's sentences come from the run's own final
values and appear only for the metrics the run has; templates/report.html lays the page out.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from plotly.offline import get_plotlyjs

from trustsim.report.plots import figures
from trustsim.result import Result, format_value

# What a final value means in words; {} is the value as format_value writes it.
SENTENCES = (
    ("score_mean", "The mean score ended at {}."),
    ("score_p10", "One person in ten scored under {}."),
    ("blacklist_share", "{} of people were on a blacklist."),
    ("wrongful_sanction_share", "{} of the people sanctioned would not have been on their true behaviour alone."),
    ("association_only_penalty_share", "{} of people fell under the threshold only through their contacts."),
    ("disparate_impact_ratio", "The minority was sanctioned at {} times the rate of the majority."),
    ("expressed_dissent_ratio", "Expressed dissent was {} times latent dissent (1: nobody holds back)."),
    ("isolated_share", "{} of people had no ties left."),
    ("opt_in_share", "{} of people took part in the system."),
)

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("trustsim.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def summary(result: Result) -> list[str]:
    """Plain-language sentences about the run's final state, for the metrics it has."""
    final = result.final()
    return [text.format(format_value(metric, final[metric])) for metric, text in SENTENCES if metric in final]


def build_report(result_or_dir: Result | str | Path, path: str | Path) -> Path:
    """Write the report of a Result (or of the latest run in a results directory) to path."""
    if isinstance(result_or_dir, Result):
        result = result_or_dir
    else:
        from trustsim.store import open_results  # the store writes reports, so it imports this module

        result = open_results(result_or_dir)
    scenario = result.scenario
    dates = result.metrics["date"]
    final = result.final()
    page = _TEMPLATES.get_template("report.html").render(
        result=result,
        scenario=scenario,
        first_date=str(dates.min())[:10] if len(dates) else scenario.run.start,
        last_date=str(dates.max())[:10] if len(dates) else scenario.run.start,
        sentences=summary(result),
        finals=[(metric, format_value(metric, value)) for metric, value in final.items()],
        plotlyjs=get_plotlyjs(),
        plots=[(title, fig.to_html(full_html=False, include_plotlyjs=False, config={"displaylogo": False}))
               for title, fig in figures(result.metrics)],
    )
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path
