"""The plot primitives of the run report and the comparison page: one function per kind of picture.

Both pages draw from here, so a band, a stacked area or a by-group panel looks and reads the same
wherever it appears:
    panels(titles, ...)              a figure of one or more panels, in the house style
    add_line / add_band              a line over time, and a shaded band between two series
    add_lines                        several lines over time; one that coincides with another is dashed
    add_stacked                      stacked areas (parts that add up to a whole)
    add_bars                         bars over categories or over time
    style_axis(fig, metric, ...)     the y axis of a panel formatted for what the metric measures
    group_label, group_order         how per-group rows ("minority=1") read, in their natural order
    to_div(fig)                      the figure's HTML, without plotly.js (the page embeds it once)
Figures carry their data as NumPy arrays (Plotly writes them compactly) and a lean template, so a
page of a dozen plots stays small next to plotly.js itself.

The layout keeps every text box apart at any page width from 900 px up (tests/test_report_browser.py
measures it): the top strip of a figure is left to Plotly's toolbar, which shows there on hover; the
legend sits at the bottom, below the axes (Plotly makes room for both); panel titles wrap to the
width a panel has on the narrowest page; tick labels carry as many digits as their spacing needs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from trustsim.result import family, format_value

# Okabe-Ito: distinguishable with colour-blindness, and in print.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

TOOLBAR = 36  # px: the strip at the top of a figure where Plotly's toolbar shows, on hover, at the right
TITLE_SIZE = 14  # px: a panel title's text
TITLE_LINE = 19  # px: the height of one line of a panel title
NARROWEST = 820  # px: the narrowest figure a page lays out without overlaps (a page in a 900 px window)
TITLE_CHAR = 7.5  # px: a panel title's character, on average, with room to spare (DejaVu Sans at 14 px: 7.2)

TEMPLATE = go.layout.Template(layout=dict(
    font=dict(family="system-ui, -apple-system, 'Segoe UI', sans-serif", size=13, color="#222"),
    colorway=list(PALETTE),
    paper_bgcolor="white",
    plot_bgcolor="white",
    margin=dict(l=60, r=30, t=TOOLBAR + 10, b=40),
    hovermode="x unified",
    # at the bottom of the figure, below the x axis and its title (Plotly pushes the margin for each)
    legend=dict(orientation="h", yref="container", yanchor="bottom", y=0, xanchor="left", x=0),
    # the figure's own title (a menu's choice, say) goes top left, in the toolbar's strip: keep it short
    title=dict(xref="container", x=0, xanchor="left", yref="container", y=1, yanchor="top", pad=dict(t=10, l=10),
               font=dict(size=15)),
    # automargin: Plotly widens the margins for long tick labels and titles instead of clipping them;
    # the standoff keeps an x axis's first label clear of the y axis's bottom one in the corner
    xaxis=dict(showgrid=True, gridcolor="#eee", linecolor="#999", zeroline=False, automargin=True,
               ticklabelstandoff=6),
    yaxis=dict(showgrid=True, gridcolor="#eee", linecolor="#999", zeroline=False, automargin=True),
))

CONFIG = {"displaylogo": False, "responsive": True}

# How the readers see each group dimension's values.
_GROUP_NAMES = {
    "urban": {"0": "rural", "1": "urban"},
    "minority": {"0": "majority", "1": "minority"},
    "dissent_decile": {"1": "1 (least)", "10": "10 (most)"},
    "stake": {"committed": "committed few", "near_bar": "near a sanction bar", "state_job": "state job",
              "business": "business", "other": "none of these"},
}
DIMENSIONS = ("region", "urban", "occupation", "minority", "dissent_decile")


def rgba(colour: str, alpha: float) -> str:
    """A palette colour ('#rrggbb') made transparent, for bands."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def colour(i: int) -> str:
    return PALETTE[i % len(PALETTE)]


def wrap(text: str, width_px: float) -> str:
    """A panel title broken into lines (Plotly's <br>) that fit width_px: after a space, or after a dot of a
    long dotted name (a parameter's key)."""
    width, lines, line = max(8, int(width_px / TITLE_CHAR)), [], ""
    for piece in re.findall(r"[^ .]+[ .]*|[ .]+", text):
        if line and len((line + piece).rstrip()) > width:
            lines.append(line.rstrip())
            line = ""
        line += piece
    return "<br>".join([*lines, line.rstrip()] if line else lines)


def panels(titles: Sequence[str], cols: int = 1, height: int | None = None, title: str | None = None,
           specs: list | None = None, shared_xaxes: bool = False, horizontal_spacing: float | None = None,
           top: int = 0, tick_px: int = 45, **kwargs) -> go.Figure:
    """A figure of len(titles) panels in rows of `cols` (or laid out by `specs`), in the house style.

    Each title is wrapped to its panel's width on the narrowest page; the margin above the panels
    holds the toolbar's strip (and, to its left, the figure's short `title` if any), `top` more px
    (a menu, say) and the longest title; the space between rows holds the x tick labels above
    (`tick_px` deep; none if the x axes are shared) and the titles below. The legend, if any, goes
    below everything.
    """
    rows = len(specs) if specs else -(-len(titles) // cols)
    horizontal_spacing = horizontal_spacing if horizontal_spacing is not None else 0.2 / cols
    margin = TEMPLATE.layout.margin
    panel_px = (NARROWEST - margin.l - margin.r) * (1 - horizontal_spacing * (cols - 1)) / cols
    spans = [cell.get("colspan", 1) if cell else 1 for row in specs for cell in row if cell is not None] if specs \
        else [1] * len(titles)
    wrapped = [wrap(t, panel_px * span) for t, span in zip(titles, spans)]
    lines = max((t.count("<br>") + 1 for t in wrapped if t), default=0)
    height = height or 140 + 280 * rows
    above = TOOLBAR + top + lines * TITLE_LINE + 6
    gap = (20 if shared_xaxes else tick_px) + lines * TITLE_LINE + 15  # px between two rows of panels
    plot_px = height - above - 90  # the panels' height, less what Plotly may add below for axes and legend
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=wrapped, specs=specs, shared_xaxes=shared_xaxes,
                        horizontal_spacing=horizontal_spacing,
                        vertical_spacing=min(0.9 / max(1, rows - 1), gap / plot_px) if rows > 1 else None, **kwargs)
    fig.update_annotations(font_size=TITLE_SIZE)  # the panel titles: the only annotations so far
    fig.update_layout(template=TEMPLATE, height=height, title=title, margin=dict(t=above))
    return fig


def add_line(fig: go.Figure, x, y, name: str, colour: str, row: int = 1, col: int = 1,
             dash: str | None = None, legendgroup: str | None = None, showlegend: bool = True,
             hover: str | None = None, width: float = 2) -> None:
    fig.add_trace(go.Scatter(
        x=x, y=np.asarray(y, dtype=float), mode="lines", name=name, line=dict(color=colour, dash=dash, width=width),
        legendgroup=legendgroup or name, showlegend=showlegend, hovertemplate=hover,
    ), row=row, col=col)


def coincides(a: np.ndarray, b: np.ndarray, scale: float) -> bool:
    """Two series a reader cannot tell apart on an axis of height `scale`: within 0.5% of it at every point."""
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=0, atol=0.005 * scale, equal_nan=True))


def add_lines(fig: go.Figure, x, series: Sequence[tuple[str, Sequence[float]]], row: int = 1, col: int = 1,
              hover: str | None = None) -> None:
    """Lines over time, one per (name, values), in palette order. A line that coincides with one drawn before it
    would hide it: it is drawn dashed on top, and its legend entry says whose line it lies on."""
    drawn: list[tuple[str, np.ndarray]] = []
    values = [np.asarray(v, dtype=float) for _, v in series]
    scale = max((float(np.nanmax(np.abs(v))) for v in values if np.isfinite(v).any()), default=0.0)
    for i, ((name, _), y) in enumerate(zip(series, values)):
        under = next((other for other, seen in drawn if coincides(seen, y, scale)), None)
        add_line(fig, x, y, f"{name} (dashed: on the {under} line)" if under else name, colour(i), row, col,
                 dash="dash" if under else None, hover=hover)
        drawn.append((name, y))


def add_band(fig: go.Figure, x, lo, hi, name: str, colour: str, row: int = 1, col: int = 1,
             legendgroup: str | None = None, showlegend: bool = True, alpha: float = 0.2) -> None:
    """A shaded band between lo and hi (a quantile range, or the range across seeds)."""
    x = list(x)
    fig.add_trace(go.Scatter(
        x=x + x[::-1], y=np.concatenate([np.asarray(hi, float), np.asarray(lo, float)[::-1]]),
        fill="toself", fillcolor=rgba(colour, alpha), line=dict(width=0), mode="lines", name=name,
        legendgroup=legendgroup or name, showlegend=showlegend, hoverinfo="skip",
    ), row=row, col=col)


def add_stacked(fig: go.Figure, x, parts: Sequence[tuple[str, Sequence[float]]], row: int = 1, col: int = 1,
                hover: str | None = None) -> None:
    """Stacked areas, one per (name, values), in the order given, bottom first."""
    for i, (name, values) in enumerate(parts):
        fig.add_trace(go.Scatter(
            x=x, y=np.asarray(values, float), mode="lines", name=name, legendgroup=name,
            stackgroup=f"stack{row}{col}",
            line=dict(width=0.5, color=colour(i)), fillcolor=rgba(colour(i), 0.6), hovertemplate=hover,
        ), row=row, col=col)


def add_bars(fig: go.Figure, x, y, name: str, colour: str, row: int = 1, col: int = 1,
             showlegend: bool = True, hover: str | None = None, visible: bool = True,
             horizontal: bool = False) -> None:
    """Bars of y over the categories (or dates) x; horizontal bars put the categories on the y axis."""
    x, y = list(x), np.asarray(y, float)
    if horizontal:
        x, y = y, x
    fig.add_trace(go.Bar(x=x, y=y, name=name, marker_color=colour, orientation="h" if horizontal else None,
                         showlegend=showlegend, hovertemplate=hover, visible=visible), row=row, col=col)


def is_share(metric: str) -> bool:
    """A share of people (0..1); wrongful_by_cause.* are shares of the sanctioned, as their sum is."""
    return family(metric).endswith("_share") or family(metric) == "wrongful_by_cause"


def format_metric(metric: str, value: float) -> str:
    """A value as the pages write it: as result.format_value does, and every share in percent."""
    if is_share(metric) and not pd.isna(value):
        return f"{100 * value:.2f}%"
    return format_value(metric, value)


def is_count(metric: str) -> bool:
    return family(metric) in {"blacklist_count", "blacklist_entries", "blacklist_exits", "flight_denials", "rail_denials"}


def tickformat(metric: str) -> str | None:
    """The d3 format of a metric's tick labels: percent for shares, with as many decimals as the ticks' spacing
    needs (trailing zeros trimmed); None for every other metric, whose ticks Plotly writes with as many digits
    as their spacing needs (counts with exponentformat "B": 20M, 1.1B). A fixed number of digits would
    repeat a label where ticks lie closer than its last digit (0.079, 0.08 and 0.081 all read 0)."""
    return "~%" if is_share(metric) else None


def hover(metric: str, axis: str = "y") -> str:
    """The hover text of a value: shares in percent and other measures to three significant digits, scores to a
    tenth of a point, counts whole."""
    if is_share(metric):
        fmt = ".3~p"
    elif is_count(metric):
        fmt = ",.0f"
    elif family(metric) in ("score_mean", "score_p10", "score_p50", "score_p90"):  # points on the 350-950 scale
        fmt = ".1f"
    else:
        fmt = ".3~r"
    return "%{" + axis + ":" + fmt + "}"


def style_axis(fig: go.Figure, metric: str, row: int = 1, col: int = 1, title: str | None = None,
               axis: str = "y", **kwargs) -> None:
    """Format a panel's value axis (y, or x for horizontal bars) for what the metric measures."""
    update = fig.update_yaxes if axis == "y" else fig.update_xaxes
    update(tickformat=tickformat(metric), exponentformat="B", title_text=title, row=row, col=col,
           rangemode="tozero" if is_share(metric) or is_count(metric) else "normal", **kwargs)


def group_label(group: str) -> str:
    """'minority=1' -> 'minority', 'urban=0' -> 'rural', 'occupation=farmer' -> 'farmer'."""
    dimension, _, value = group.partition("=")
    return _GROUP_NAMES.get(dimension, {}).get(value, value.replace("_", " "))


def group_order(groups: pd.Series) -> pd.Series:
    """A sort key for group labels: dissent deciles by number, everything else as the run gives it."""
    values = groups.str.partition("=")[2]
    numeric = pd.to_numeric(values, errors="coerce")
    return numeric.where(numeric.notna(), pd.Series(range(len(groups)), index=groups.index))


def to_div(fig: go.Figure) -> str:
    """The figure as an HTML <div> and its script; plotly.js is not included (the page has it once)."""
    return fig.to_html(full_html=False, include_plotlyjs=False, config=CONFIG)
