"""The reports' filter form (统计指标, 考核, 看板) is laid out as the ledger's (Bootstrap fields in a card) and each
field has its label bound to it, so a click on 不含下级 or 仅重点 ticks the box and a screen reader names each field;
the old form wrapped bare browser-default fields in labels."""
import re

from django.test import Client


def test_every_field_of_the_figures_filter_has_a_bound_label_and_the_ledgers_look(world):
    client = Client()
    client.force_login(world.office)
    page = client.get("/reports/figures/").content.decode()
    form = re.search(r'<form method="get" class="card card-body[^"]*" id="report-filters">(.*?)</form>', page, re.S)
    assert form, "the filter form is missing or not in a card"
    fields = re.findall(r'<(?:select|input)\b[^>]*>', form.group(1))
    names = [re.search(r'name="([^"]+)"', f).group(1) for f in fields]
    assert names == ["session", "unit", "subunits", "kind", "role", "category", "key", "date_from", "date_to", "as_of"]
    for field in fields:
        ident = re.search(r'id="([^"]+)"', field).group(1)
        assert f'for="{ident}"' in form.group(1), field
        assert re.search(r'class="form-(select|control|check-input)', field), field
    response = client.get("/reports/figures/", {"session": world.session.pk, "unit": world.lead_unit.pk, "subunits": "0",
                                                  "key": "1"})
    checked = re.findall(r'<input[^>]*checked[^>]*>', response.content.decode())
    assert {re.search(r'name="([^"]+)"', c).group(1) for c in checked} >= {"subunits", "key"}
