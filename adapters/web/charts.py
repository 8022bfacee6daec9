"""A figure's weekly series as an inline SVG chart, drawn on the server by pygal.

Why pygal: it draws SVG in pure Python, with no JavaScript needed (`js=[]`) and nothing fetched
from another host; its CSS is one <style> element per chart, which the page's CSP allows by nonce.
The chart carries a <title> and a <desc> that says every value, and the page puts a data table
beside it, so a screen reader gets the numbers without the picture.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

import pygal
from pygal.style import Style

_STYLE = Style(background="white", plot_background="white", foreground="#222", foreground_strong="#222",
               foreground_subtle="#888", colors=("#1f5fa8",), font_family="sans-serif")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)  # pygal's config for its JS, written even with js=[]
_STYLE_ATTRIBUTE = re.compile(r'\sstyle="[^"]*"')  # a CSP without 'unsafe-inline' refuses them anyway
_SVG_OPEN = re.compile(r"<svg\b[^>]*>")


def value_text(value: float | None, is_rate: bool) -> str:
    if value is None:
        return "no data"
    if is_rate:
        return f"{round(value * 100)}%"
    return f"{value:g}"


def describe(label: str, text: str, weeks: Sequence[str], weekly: Sequence[float | None], is_rate: bool) -> str:
    values = ", ".join(f"{week}: {value_text(v, is_rate)}" for week, v in zip(weeks, weekly, strict=True))
    return f"{label}, {text}. Week by week, oldest first — {values}."


def chart_svg(chart_id: str, label: str, text: str, weeks: Sequence[str], weekly: Sequence[float | None],
              is_rate: bool, nonce: str) -> str:
    """The SVG of one chart, to be embedded as is (every text in it is escaped)."""
    values = [None if v is None else (round(v * 100) if is_rate else v) for v in weekly]
    chart = pygal.Bar(js=[], disable_xml_declaration=True, style=_STYLE, width=560, height=220,
                      explicit_size=True, show_legend=False, title=label, print_values=False,
                      range=(0, 100) if is_rate else None, include_x_axis=True, no_data_text="no data",
                      value_formatter=(lambda v: f"{v:g}%") if is_rate else (lambda v: f"{v:g}"))
    chart.x_labels = list(weeks)
    known = [v for v in values if v is not None]
    if not is_rate and known and all(float(v).is_integer() for v in known) and max(known) <= 20:
        chart.y_labels = list(range(0, int(max(known)) + 1))  # counts: whole ticks, not 0.2, 0.4…
    chart.add(label, values)
    svg = _STYLE_ATTRIBUTE.sub("", _SCRIPT.sub("", _COMMENT.sub("", chart.render(is_unicode=True))))
    svg = svg.replace("<style", f'<style nonce="{escape(nonce)}"')
    heading = (f'<title id="{chart_id}-title">{escape(label)}</title>'
               f'<desc id="{chart_id}-desc">{escape(describe(label, text, weeks, weekly, is_rate))}</desc>')
    opening = _SVG_OPEN.search(svg)
    tag = opening.group(0)[:-1] + f' role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">'
    return svg[:opening.start()] + tag + heading + svg[opening.end():]
