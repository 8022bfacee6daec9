"""The credit table's rows are written without a template loop (a quarter has 10,000 lines): what
people typed (an account, a name) still comes out as text, never as markup."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace as Data
from xml.etree import ElementTree

from adapters.web.app import credit_rows_html


def test_typed_text_in_the_credit_table_is_shown_as_typed_and_each_line_repeats_its_win():
    ana = Data(person_id=1, name='<script>alert("ana")</script>', roles="originator, deliverer", share=0.625,
               cents=6_250_001)
    bob = Data(person_id=2, name="bob & co", roles="contributor", share=0.375, cents=3_750_000)
    report = Data(wins=(Data(record="H-4", account="<b>Umbrella</b>", won_on=date(2026, 12, 21),
                             amount_cents=10_000_001, credits=(ana, bob)),
                        Data(record="L-9", account="Initech", won_on=date(2026, 12, 22), amount_cents=None,
                             credits=())))
    html = str(credit_rows_html(report))
    assert "<script>" not in html and "<b>" not in html
    rows = ElementTree.fromstring(f"<tbody>{html}</tbody>")
    cells = [[td.text or "" for td in tr] for tr in rows]
    assert cells == [
        ["H-4", "<b>Umbrella</b>", "2026-12-21", "100,000.01", '<script>alert("ana")</script>',
         "originator, deliverer", "62.5%", "62,500.01"],
        ["H-4", "<b>Umbrella</b>", "2026-12-21", "100,000.01", "bob & co", "contributor", "37.5%", "37,500"],
        ["L-9", "Initech", "2026-12-22", "—", "nobody credited", "", "", ""],
    ]
    assert [tr.get("class") for tr in rows] == ["win-first", None, "win-first"]
