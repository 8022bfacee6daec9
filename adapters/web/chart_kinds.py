"""The charts that are not one figure's weekly bars (those are adapters/web/charts.py's): a
category axis (a handoff funnel's stages) or several series side by side (a pulse dimension's
side A and side B over the pulses), drawn by pygal as grouped bars from a reports.charts.Chart.

The same rules as adapters/web/charts.py, whose weekly charts these stand beside: no <script>, no
style attribute (the CSP refuses them), pygal's one <style> carrying the response's nonce, and a
<title>, a <desc> saying every value and role="img" for a screen reader; the page adds a data table.
A value with nothing to measure (None) draws no bar, and the description and table say "no data".
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import pygal
from pygal.style import Style

from adapters.web.charts import cleaned, finish, value_text

_STYLE = Style(background="white", plot_background="white", foreground="#222", foreground_strong="#222",
               foreground_subtle="#888", colors=("#1f5fa8", "#d9822b", "#3a8f4b"), font_family="sans-serif")


def describe(chart: Any) -> str:
    """Every value in words: 'Shared risk, average rating…. November 2026: side A 4.7, side B 2.5.'"""
    if len(chart.series) == 1:
        values = (f"{x}: {value_text(v, chart.is_rate)}" for x, v in zip(chart.x, chart.series[0].values, strict=True))
    else:
        values = (f"{x}: " + ", ".join(f"{s.name} {value_text(s.values[i], chart.is_rate)}" for s in chart.series)
                  for i, x in enumerate(chart.x))
    return f"{chart.label}, {chart.text}. " + ("; ".join(values) or "Nothing to show yet") + "."


def table_rows(chart: Any) -> list[tuple[str, list[str]]]:
    """The chart's data table: (series name, the value of each x label as text), one per series."""
    return [(s.name, [value_text(v, chart.is_rate) for v in s.values]) for s in chart.series]


def grouped_bars_svg(chart_id: str, chart: Any, nonce: str) -> str:
    """The SVG of a reports.charts.Chart (label, text, x, series, is_rate, y_max), to be embedded
    as is: every text in it is escaped. Kept by what it shows, as charts.py keeps its charts."""
    series = tuple((s.name, tuple(s.values)) for s in chart.series)
    svg = _grouped_svg(chart.label, tuple(chart.x), series, chart.is_rate, chart.y_max)
    return finish(svg, chart_id, chart.label, describe(chart), nonce)


@lru_cache(maxsize=1024)
def _grouped_svg(label: str, x: tuple[str, ...], series_values: tuple, is_rate: bool, y_max: float | None) -> str:
    series = [(name, [None if v is None else (round(v * 100) if is_rate else v) for v in values])
              for name, values in series_values]
    known = [v for _, values in series for v in values if v is not None]
    top = 100 if is_rate else y_max
    bars = pygal.Bar(js=[], disable_xml_declaration=True, style=_STYLE, width=560, height=240,
                     explicit_size=True, truncate_label=-1, show_legend=len(series) > 1, legend_at_bottom=True,
                     title=label, print_values=False, range=(0, top) if top is not None else None,
                     include_x_axis=True, no_data_text="no data",
                     value_formatter=(lambda v: f"{v:g}%") if is_rate else (lambda v: f"{v:g}"))
    bars.x_labels = list(x)
    if is_rate:
        bars.y_labels = [0, 25, 50, 75, 100]
    elif top is not None and float(top).is_integer() and top <= 20:
        bars.y_labels = list(range(0, int(top) + 1))  # a pulse's 0…5
    elif all(float(v).is_integer() for v in known) and max(known, default=0) <= 20:
        bars.y_labels = list(range(0, int(max(known, default=0) or 1) + 1))  # counts: whole ticks
    for name, values in series:
        bars.add(name, values)
    return cleaned(bars.render(is_unicode=True))
