"""The plot primitives of the run report and the comparison page: one function per kind of picture.

Both pages draw from here, so a band, a stacked area or a by-group panel looks and reads the same
wherever it appears:
    panels(titles, ...)              a figure of one or more panels, in the house style
    add_line / add_band              a line over time, and a shaded band between two series
    add_stacked                      stacked areas (parts that add up to a whole)
    add_bars                         bars over categories or over time
    style_axis(fig, metric, ...)     the y axis of a panel formatted for what the metric measures
    group_label, group_order         how per-group rows ("minority=1") read, in their natural order
    to_div(fig)                      the figure's HTML, without plotly.js (the page embeds it once)
Figures carry their data as NumPy arrays (Plotly writes them compactly) and a lean template, so a
page of a dozen plots stays small next to plotly.js itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from trustsim.result import family, format_value

# Okabe-Ito: distinguishable with colour-blindness, and in print.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

TEMPLATE = go.layout.Template(layout=dict(
    font=dict(family="system-ui, -apple-system, 'Segoe UI', sans-serif", size=13, color="#222"),
    colorway=list(PALETTE),
    paper_bgcolor="white",
    plot_bgcolor="white",
    margin=dict(l=60, r=20, t=50, b=40),
    hovermode="x unified",
    legend=dict(orientation="h", yref="container", yanchor="top", y=0.99, xanchor="left", x=0),
    xaxis=dict(showgrid=True, gridcolor="#eee", linecolor="#999", zeroline=False),
    yaxis=dict(showgrid=True, gridcolor="#eee", linecolor="#999", zeroline=False),
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


def panels(titles: Sequence[str], cols: int = 1, height: int | None = None, title: str | None = None,
           specs: list | None = None, shared_xaxes: bool = False, vertical_spacing: float | None = None,
           top: int | None = None, **kwargs) -> go.Figure:
    """A figure of len(titles) panels in rows of `cols` (or laid out by `specs`), in the house style.

    The legend sits at the very top; `top` is the margin above the panels (room for it and the titles).
    """
    rows = len(specs) if specs else -(-len(titles) // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=list(titles), specs=specs, shared_xaxes=shared_xaxes,
                        vertical_spacing=vertical_spacing or min(0.12, 0.5 / rows), **kwargs)
    fig.update_layout(template=TEMPLATE, height=height or 140 + 280 * rows, title=title,
                      margin=dict(t=top or (80 if any(titles) else 50)))
    return fig


def add_line(fig: go.Figure, x, y, name: str, colour: str, row: int = 1, col: int = 1,
             dash: str | None = None, legendgroup: str | None = None, showlegend: bool = True,
             hover: str | None = None, width: float = 2) -> None:
    fig.add_trace(go.Scatter(
        x=x, y=np.asarray(y, dtype=float), mode="lines", name=name, line=dict(color=colour, dash=dash, width=width),
        legendgroup=legendgroup or name, showlegend=showlegend, hovertemplate=hover,
    ), row=row, col=col)


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
            x=x, y=np.asarray(values, float), mode="lines", name=name, stackgroup=f"stack{row}{col}",
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
    """The d3 format of a metric's axis and hover: percent for shares, plain for ratios and scores."""
    if is_share(metric):
        return ".2~%"
    if is_count(metric):
        return None  # Plotly's own ticks with exponentformat "B": 20M, 1.1B
    if family(metric).startswith("score"):
        return ".0f"
    return ".3~f"


def hover(metric: str, axis: str = "y") -> str:
    """The hover text of a value, formatted as its axis is."""
    fmt = tickformat(metric)
    return "%{" + axis + (f":{fmt}" if fmt else ":,.0f") + "}"


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
