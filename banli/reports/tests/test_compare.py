import re

import pytest
from django.urls import reverse

from banli.core.testing import make_proposal, walk_to
from banli.handling import services as handling
from banli.proposals import services as proposals
from banli.proposals.choices import Body, Level
from banli.proposals.models import Session


def test_previous_sessions_side_by_side_with_items_carried_over(client, world):
    old = proposals.session_create(actor=world.office, name="区政协往届会议", body=Body.CPPCC, level=Level.DISTRICT,
                                   year=world.session.year - 1, assigning_office=world.office_unit)
    world_session = world.session
    world.session = old
    carried = make_proposal(world, title="往年未办结的提案")
    handling.assignment_create(proposal=carried, unit=world.lead_unit, role="lead", actor=world.office)
    world.session = world_session
    current = make_proposal(world, title="今年的提案")
    handling.assignment_create(proposal=current, unit=world.lead_unit, role="lead", actor=world.office)
    handling.assignment_create(proposal=current, unit=world.co_unit, role="co", actor=world.office)
    client.force_login(world.lead_office)
    r = client.get(reverse("reports:compare"))
    html = r.content.decode()
    assert r.status_code == 200
    assert "区政协往届会议" in html and world.session.name in html
    assert "往年未办结的提案" in html.split("往年结转未办结事项")[1]
    assert "今年的提案" not in html.split("往年结转未办结事项")[1]


@pytest.mark.parametrize("user", ["proposer"])
def test_compare_is_for_staff_only(client, world, user):
    client.force_login(getattr(world, user))
    assert client.get(reverse("reports:compare")).status_code == 404


def _figures_page_values(client, session):
    html = client.get(reverse("reports:figures"), {"session": session.pk}).content.decode()
    body = html.split('id="figures"')[1] if 'id="figures"' in html else html
    return dict(re.findall(r"<th>(.*?)</th>\s*<td class=\"num\">(.*?)</td>", body))


def test_every_compare_column_equals_that_sessions_own_figures_page(client, world):
    older = []
    for year, replied in ((world.session.year - 2, 1), (world.session.year - 1, 2)):
        session = proposals.session_create(actor=world.office, name=f"区政协{year}年会议", body=Body.CPPCC,
                                           level=Level.DISTRICT, year=year, assigning_office=world.office_unit)
        older.append(session)
        current = world.session
        world.session = session
        for i in range(replied + 1):  # different sizes per session, so a shifted column shows
            p = make_proposal(world, title=f"{year}年提案{i}")
            a = handling.assignment_create(proposal=p, unit=world.lead_unit, role="lead", actor=world.office)
            if i < replied:
                walk_to(world, a, "replied")
        world.session = current
    p = make_proposal(world, title="今年提案")
    handling.assignment_create(proposal=p, unit=world.lead_unit, role="lead", actor=world.office)
    # A session registered but without items yet (the next meeting): it has no column of figures, and its
    # heading once took the first column's place, shifting every session's figures under the next heading.
    proposals.session_create(actor=world.office, name="区政协下届会议", body=Body.CPPCC, level=Level.DISTRICT,
                             year=world.session.year + 1, assigning_office=world.office_unit)
    client.force_login(world.office)
    html = client.get(reverse("reports:compare")).content.decode()
    table = html.split('id="compare"')[1].split("</table>")[0]
    heads = re.findall(r'<th data-session="(\d+)">(.*?)</th>', table)
    assert len(heads) == 3
    rows = re.findall(r'<tr><th title="[^"]*">(.*?)</th>(.*?)</tr>', table)

    for column, (session_id, name) in enumerate(heads):
        session = Session.objects.get(pk=session_id)
        assert session.name == name
        own = _figures_page_values(client, session)
        for figure_name, cells in rows:
            values = re.findall(r'<a href="[^"]*">(.*?)</a>', cells)
            assert values[column] == own[figure_name], (name, figure_name)
    assigned = {name: re.findall(r'<a href="[^"]*">(.*?)</a>', cells) for name, cells in rows}["交办件数"]
    assert assigned == ["1件", "3件", "2件"]  # newest first: this year, last year, the year before
