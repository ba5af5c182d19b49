"""The HTML report of a run: a summary in words and a plot per metric family (html.py, plots.py)."""

from trustsim.report.html import build_report

__all__ = ["build_report"]
