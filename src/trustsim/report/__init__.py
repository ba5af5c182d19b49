"""The HTML pages: the report of one run (html.py) and the comparison of scenarios (compare.py).

summary.py writes the opening sentences, sections.py decides what each section plots, plots.py
holds the plot primitives both pages share, view.py reads a run's metrics table for them.
"""

from trustsim.report.html import build_report

__all__ = ["build_report"]
