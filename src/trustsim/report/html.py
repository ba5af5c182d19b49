"""The self-contained HTML report of one run: a plain-language summary, then one section per harm.

Use `build_report(result, path)` to write it. plotly.js is embedded once, inline, so the file
opens anywhere without a network. The summary (summary.py) and the sections (sections.py) are
built from the run's own metrics; what a run lacks is listed as not in this run. When the
directory holds a posterior of the same scenario (posterior.json, written by `trustsim posterior`)
the summary cites its 90% posterior intervals; else, when it holds an uncertainty analysis
(uncertainty.json, `trustsim uncertainty`), its 90% intervals over the plausible assumptions. `render` fills a
page template (templates/, all extending base.html); the comparison page uses it too.
"""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
from plotly.offline import get_plotlyjs

from trustsim.report.plots import to_div
from trustsim.report.sections import case_stories, sections as build_sections
from trustsim.report.summary import final_values, summary
from trustsim.report.view import MetricsView
from trustsim.result import Result

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("trustsim.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)

__all__ = ["INTERVALS_FILE", "POSTERIOR_FILE", "build_report", "intervals_of", "render", "summary"]
INTERVALS_FILE = "uncertainty.json"  # written by `trustsim uncertainty` (experiments/ensembles/pages.py)
POSTERIOR_FILE = "posterior.json"  # written by `trustsim posterior` (experiments/posterior/pages.py)


def render(template: str, path: str | Path, **context) -> Path:
    """Write templates/<template> filled with context (plotly.js added) to path."""
    page = _TEMPLATES.get_template(template).render(plotlyjs=get_plotlyjs(), **context)
    path = Path(path)
    path.write_text(page, encoding="utf-8")
    return path


def intervals_of(directory: Path, name: str) -> dict[str, dict]:
    """The 90% intervals of this scenario the directory holds: a posterior's (posterior.json) before a
    prior's (uncertainty.json); each says which it is under "basis"."""
    for file, basis in ((POSTERIOR_FILE, "posterior"), (INTERVALS_FILE, "prior")):
        path = directory / file
        if not path.is_file():
            continue
        try:
            found = json.loads(path.read_text(encoding="utf-8")).get(name, {}).get("metrics", {})
        except (OSError, ValueError, AttributeError):
            continue  # an unreadable file only costs the intervals, never the report
        if found:
            return {metric: {**part, "basis": basis} for metric, part in found.items()}
    return {}


def build_report(result: Result, path: str | Path) -> Path:
    """Write the report of a Result to path (`store.rebuild_report` reads one back from a directory)."""
    scenario = result.scenario
    dates = result.metrics["date"]
    made = build_sections(MetricsView(result.metrics))
    shown = [{"id": s.id, "title": s.title, "caption": s.caption, "figure": s.figure, "html": to_div(s.figure)}
             for s in made if s.figure is not None]
    return render(
        "report.html", path,
        result=result,
        scenario=scenario,
        scenario_json=scenario.model_dump_json(indent=2),
        first_date=str(dates.min())[:10] if len(dates) else scenario.run.start,
        last_date=str(dates.max())[:10] if len(dates) else scenario.run.start,
        sentences=summary(result, intervals_of(Path(path).parent, scenario.name)),
        finals=final_values(result),
        sections=shown,
        cases=[{"title": c.title, "story": c.story, "html": to_div(c.figure)} for c in case_stories(
            result.trace, result.traced_people, scenario.scoring.association.threshold)],
        skipped=[s for s in made if s.figure is None],
    )
