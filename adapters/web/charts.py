"""A figure's weekly series as an inline SVG chart, drawn on the server by pygal.

Why pygal: it draws SVG in pure Python, with no JavaScript needed (`js=[]`) and nothing fetched
from another host; its CSS is one <style> element per chart, which the page's CSP allows by nonce.
The chart carries a <title> and a <desc> that says every value, and the page puts a data table
beside it, so a screen reader gets the numbers without the picture.

Drawing one chart takes pygal about 10 ms, so a page of 20 would spend most of its time there: the
SVG of a chart is kept by what it shows (an LRU of 4,096), and the per-response parts (its element
ids, the CSP nonce) are added to it after.

A week with nothing to measure (None) and a week whose value is 0 would both show no bar of the data,
so a week with nothing to measure gets a pale bar of the plot's full height instead, a second
serie named "no data" in a legend (shown only when there is such a week); a 0 stays no bar.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from html import escape

import pygal
from pygal.style import Style

_STYLE = Style(background="white", plot_background="white", foreground="#222", foreground_strong="#222",
               foreground_subtle="#888", colors=("#1f5fa8", "#c8c8c8"), font_family="sans-serif")
NO_DATA = "no data"
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)  # pygal's config for its JS, written even with js=[]
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="[^"]*"')  # a CSP without 'unsafe-inline' refuses them anyway
_SVG_OPEN = re.compile(r"<svg\b[^>]*>")


class _OverlaidBar(pygal.StackedBar):
    """Each serie's bars across the whole week, as StackedBar draws them, but a None drawn as no
    bar rather than as 0 (StackedBar's adapter). The data and "no data" never share a week, so
    nothing is stacked on anything: each week has the bar of one serie or none."""

    _adapters = []


def value_text(value: float | None, is_rate: bool) -> str:
    if value is None:
        return NO_DATA
    if is_rate:
        return f"{round(value * 100)}%"
    return f"{value:g}"


def describe(label: str, text: str, weeks: Sequence[str], weekly: Sequence[float | None], is_rate: bool) -> str:
    values = ", ".join(f"{week}: {value_text(v, is_rate)}" for week, v in zip(weeks, weekly, strict=True))
    return f"{label}, {text}. Week by week, oldest first — {values}."


def chart_svg(chart_id: str, label: str, text: str, weeks: Sequence[str], weekly: Sequence[float | None],
              is_rate: bool, nonce: str) -> str:
    """The SVG of one chart, to be embedded as is (every text in it is escaped)."""
    return finish(_weekly_svg(label, tuple(weeks), tuple(weekly), is_rate), chart_id, label,
                  describe(label, text, weeks, weekly, is_rate), nonce)


@lru_cache(maxsize=4096)
def _weekly_svg(label: str, weeks: tuple[str, ...], weekly: tuple[float | None, ...], is_rate: bool) -> str:
    values = [None if v is None else (round(v * 100) if is_rate else v) for v in weekly]
    known = [v for v in values if v is not None]
    top = 100 if is_rate else (max(known, default=0) or 1)  # the plot's full height
    gaps = [top if v is None else None for v in values]
    has_gaps = any(gap is not None for gap in gaps)
    chart = _OverlaidBar(js=[], disable_xml_declaration=True, style=_STYLE, width=560, height=220,
                         explicit_size=True, show_legend=has_gaps, legend_at_bottom=True, title=label,
                         print_values=False, range=(0, 100) if is_rate else None, include_x_axis=True,
                         no_data_text=NO_DATA, truncate_label=-1,
                         value_formatter=(lambda v: f"{v:g}%") if is_rate else (lambda v: f"{v:g}"))
    chart.x_labels = list(weeks)
    if is_rate:
        chart.y_labels = [0, 25, 50, 75, 100]  # a tick every 10% crowds the plot the legend shortens
    elif all(float(v).is_integer() for v in known) and top <= 20:
        chart.y_labels = list(range(0, int(top) + 1))  # counts: whole ticks, not 0.2, 0.4…
    chart.add(label, values)  # serie-0: the bars of the data
    if has_gaps:
        chart.add(NO_DATA, gaps, formatter=lambda _: NO_DATA)  # serie-1
    return cleaned(chart.render(is_unicode=True))


def cleaned(svg: str) -> str:
    """pygal's SVG without what the page must not carry: comments, its script config, style attributes."""
    return _STYLE_ATTRIBUTE.sub("", _SCRIPT.sub("", _COMMENT.sub("", svg)))


def finish(svg: str, chart_id: str, title: str, description: str, nonce: str) -> str:
    """A cleaned SVG for one response: its <style> carries the nonce, and it is named and described
    for a screen reader (role="img", <title>, <desc>)."""
    svg = svg.replace("<style", f'<style nonce="{escape(nonce)}"')
    heading = (f'<title id="{chart_id}-title">{escape(title)}</title>'
               f'<desc id="{chart_id}-desc">{escape(description)}</desc>')
    opening = _SVG_OPEN.search(svg)
    tag = opening.group(0)[:-1] + f' role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">'
    return svg[:opening.start()] + tag + heading + svg[opening.end():]
