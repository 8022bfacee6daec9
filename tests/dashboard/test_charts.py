"""A figure's weekly chart tells a week with nothing to measure from a week whose value is 0:
the first gets a pale full-height bar named "no data" in a legend, the second no bar at all,
and the chart's description says which is which."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from adapters.web.charts import chart_svg

SVG = "{http://www.w3.org/2000/svg}"
WEEKS = ["26 Oct", "2 Nov", "9 Nov"]


def _bars(svg: ET.Element, serie: str) -> dict[str, float]:
    """The bars pygal drew for one serie ("serie-0": the data): the height of each, by week."""
    bars = {}
    for group in svg.iter(f"{SVG}g"):
        if {"series", serie} <= set(group.get("class", "").split()):
            for bar in group.iter(f"{SVG}g"):
                if bar.get("class") == "bar":
                    week = next(d.text for d in bar.iter(f"{SVG}desc") if d.get("class") == "x_label")
                    bars[week] = float(bar.find(f"{SVG}rect").get("height"))
    return bars


def _colour(svg: ET.Element, name: str) -> str:
    """The fill pygal's stylesheet gives the class `name` (e.g. color-1)."""
    css = svg.find(f"{SVG}defs/{SVG}style").text
    rule = next(r for r in css.split("}") if f".{name}," in r and "fill:" in r)
    return rule.split("fill:")[1].strip()


def _lightness(hex_colour: str) -> int:
    return sum(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def test_a_week_with_nothing_to_measure_is_a_pale_bar_and_a_zero_week_is_none():
    svg = ET.fromstring(chart_svg("chart-1", "Meetings closed", "2 in 3 weeks", WEEKS, [None, 0, 1],
                                  is_rate=False, nonce="n0nce"))

    data, no_data = _bars(svg, "serie-0"), _bars(svg, "serie-1")
    assert data == {"2 Nov": 0.0, "9 Nov": data["9 Nov"]} and data["9 Nov"] > 0  # 0: a bar of no height
    assert no_data == {"26 Oct": data["9 Nov"]}  # the full height of the plot, the 0 week has none
    assert _lightness(_colour(svg, "color-1")) > _lightness(_colour(svg, "color-0"))  # pale beside the data
    legend = [t.text for g in svg.iter(f"{SVG}g") if g.get("class") == "legends" for t in g.iter(f"{SVG}text")]
    assert legend == ["Meetings closed", "no data"]
    # what a screen reader hears says which week had nothing to measure and which measured 0
    assert svg.get("role") == "img" and svg.get("aria-labelledby") == "chart-1-title chart-1-desc"
    assert svg.find(f"{SVG}title").text == "Meetings closed"
    assert svg.find(f"{SVG}desc").text == \
        "Meetings closed, 2 in 3 weeks. Week by week, oldest first — 26 Oct: no data, 2 Nov: 0, 9 Nov: 1."


def test_a_rate_with_nothing_to_measure_is_a_pale_bar_up_to_100_percent():
    svg = ET.fromstring(chart_svg("chart-2", "Kept on time", "50%", WEEKS, [1.0, None, 0.5], is_rate=True,
                                  nonce="n0nce"))
    data, no_data = _bars(svg, "serie-0"), _bars(svg, "serie-1")
    assert set(data) == {"26 Oct", "9 Nov"} and no_data == {"2 Nov": data["26 Oct"]}  # 100%: full height
    assert data["9 Nov"] == data["26 Oct"] / 2


def test_a_chart_with_a_value_every_week_has_no_no_data_serie_nor_legend():
    text = chart_svg("chart-3", "Handoffs", "3", WEEKS, [1, 0, 2], is_rate=False, nonce="n0nce")
    svg = ET.fromstring(text)
    assert _bars(svg, "serie-1") == {} and set(_bars(svg, "serie-0")) == set(WEEKS)
    assert "no data" not in text
    # what the CSP asks of every chart still holds: no script, no style attribute, the one stylesheet by nonce
    assert "<script" not in text and " style=" not in text
    assert [s.get("nonce") for s in svg.iter(f"{SVG}style")] == ["n0nce"]
