"""The maintained figure cells equal a full recount from the raw rows, after random transitions."""
import random

import pytest
from django.core.management import call_command
from django.urls import reverse

from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.reports import aggregates, figures
from banli.reports.figures import Slice
from banli.reports.models import FigureCell

pytestmark = pytest.mark.django_db

STATES = [None, "signed", "in_progress", "reply_review", "replied", "rated", "closed"]


def _same(cells: dict, raw: dict) -> None:
    for key, value in raw.items():
        got = cells[key]
        assert (got.numerator, got.denominator) == (value.numerator, value.denominator), key
        assert (got.average is None) == (value.average is None), key
        if value.average is not None:
            assert abs(got.average - value.average) < 1e-6, key


def test_cells_equal_a_full_recount_after_random_transitions(world):
    rng = random.Random(18)
    aggregates.refresh()
    for i in range(12):
        proposal = make_proposal(world, number=f"AG{i:02d}")
        lead, co = assign(world, proposal, co=rng.random() < 0.6)
        state = rng.choice(STATES)
        if state:
            walk_to(world, lead, state)
        if co is not None and rng.random() < 0.5:
            handling.assignment_sign(assignment=co, actor=world.co_office)
        if i % 4 == 3:
            aggregates.refresh()  # folded in steps, as the scheduler would
    aggregates.refresh()
    assert FigureCell.objects.exists()
    assert aggregates.check() == []
    for sl in (Slice(), Slice(session_id=world.session.pk), Slice(unit_id=world.lead_unit.pk),
               Slice(unit_id=world.co_unit.pk, role="co"), Slice(session_id=world.session.pk, role="lead")):
        source = aggregates.CellSource(sl)
        _same(source.compute(), figures.compute(sl))
        assert source.states() == figures.states(sl)
        assert dict(source.ratings()) == dict(figures.ratings(sl))
        assert dict(source.reply_classes()) == dict(figures.reply_classes(sl))
        assert source.overdue_by_week() == figures.overdue_by_week(sl)
        assert dict(source.categories()) == dict(figures.categories(sl))


def test_a_tampered_cell_is_reported_by_the_check_command(world):
    proposal = make_proposal(world, number="AG99")
    lead, _ = assign(world, proposal)
    walk_to(world, lead, "replied")
    call_command("check_figure_cells")
    cell = FigureCell.objects.filter(role="lead").first()
    cell.data["n"]["replied"] += 1
    cell.save()
    with pytest.raises(Exception, match="不一致"):
        call_command("check_figure_cells")
    call_command("check_figure_cells", rebuild=True)


def test_the_figures_page_reads_the_cells_and_follows_a_change_at_once(client, world):
    proposal = make_proposal(world, number="AG50")
    lead, _ = assign(world, proposal)
    client.force_login(world.office)
    url = reverse("reports:figures")
    assert client.get(url, {"session": world.session.pk}).context["from_cells"] is True
    walk_to(world, lead, "replied")
    values = {r["figure"].key: r["value"] for r in client.get(url, {"session": world.session.pk}).context["rows"]}
    assert values["replied"].numerator == 1
