"""The workbench and the ledger cost the same number of queries for 10 rows as for 200."""
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling.models import Assignment
from banli.organizations import services as orgs
from banli.proposals.models import Proposal, ProposalProposer

pytestmark = pytest.mark.django_db

STATES = ["pending_sign", "signed", "in_progress", "reply_review", "replied", "rehandling"]


def bulk_items(w, n, *, start=0):
    """`n` proposals, each with a lead (in the lead unit) and a co assignment, in varied states and deadlines."""
    today = timezone.localdate()
    proposals = Proposal.objects.bulk_create([
        Proposal(session=w.session, number=f"Q{start + i:05d}", title=f"关于教育事项{start + i}的提案", body="正文", status="handling")
        for i in range(n)
    ])
    links, rows = [], []
    for i, p in enumerate(proposals):
        links.append(ProposalProposer(proposal=p, proposer=w.proposer_record, is_lead=True))
        due = today + dt.timedelta(days=(i % 21) - 7)
        common = dict(proposal=p, assigned_at=timezone.now(), sign_due=due, adjust_due=due, opinion_due=due,
                      reply_due=due, reply_due_max=due + dt.timedelta(days=90), feedback_due=due)
        rows.append(Assignment(unit=w.lead_unit, role="lead", state=STATES[i % len(STATES)], handler=w.lead_handler,
                               lead_section=w.lead_section, **common))
        rows.append(Assignment(unit=w.co_unit, role="co", state=STATES[i % 3], **common))
    ProposalProposer.objects.bulk_create(links)
    Assignment.objects.bulk_create(rows)


def count_queries(client, url, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("name", ["office", "lead_office", "lead_handler", "lead_leader", "co_office", "proposer", "admin"])
def test_workbench_queries_do_not_grow_with_rows(client, world, name):
    client.force_login(getattr(world, name))
    url = reverse("workbench:home")
    bulk_items(world, 10)
    client.get(url)  # warm caches that are filled once per process (review chain steps, content types)
    small = count_queries(client, url)
    bulk_items(world, 190, start=10)
    large = count_queries(client, url)
    assert small == large


@pytest.mark.parametrize("params", [{}, {"q": "教育", "ordering": "-due"}, {"overdue": "true", "state": "in_progress"}])
def test_ledger_queries_do_not_grow_with_rows(client, world, params):
    client.force_login(world.office)
    url = reverse("workbench:ledger")
    bulk_items(world, 10)
    client.get(url, params)
    small = count_queries(client, url, **params)
    bulk_items(world, 190, start=10)
    large = count_queries(client, url, **params)
    assert small == large


def test_ledger_filters_by_chinese_words_overdue_and_unit(client, world):
    bulk_items(world, 30)
    client.force_login(world.office)
    html = client.get(reverse("workbench:ledger"), {"q": "教育事项7的"}).content.decode()
    assert "关于教育事项7的提案" in html and "关于教育事项8的提案" not in html
    html = client.get(reverse("workbench:ledger"), {"unit": world.co_unit.pk, "role": "co"}).content.decode()
    assert "区住房和建设局" in html and "（主办）" not in html
    response = client.get(reverse("workbench:ledger"), {"overdue": "true"})
    assert 'data-light="green"' not in response.content.decode()


def test_ledger_paginates_and_keeps_filters_in_links(client, world):
    bulk_items(world, 60)
    client.force_login(world.office)
    html = client.get(reverse("workbench:ledger"), {"q": "教育"}).content.decode()
    assert "第 1 / 3 页" in html
    assert "?q=%E6%95%99%E8%82%B2&amp;page=2" in html  # a search of few results is ranked, paged by number


@pytest.mark.parametrize("name", ["office", "lead_office", "co_office"])
def test_proposal_page_queries_do_not_grow_with_its_assignments(client, world, name):
    """Replies, opinions, contacts, commitments and ratings are read once for all of the item's assignments."""
    proposal = make_proposal(world, number="QC1")
    lead, co = assign(world, proposal)
    walk_to(world, lead, "replied")
    client.force_login(getattr(world, name))
    url = reverse("workbench:proposal", args=[proposal.pk])
    client.get(url)
    small = count_queries(client, url)
    for i in range(4):
        unit = orgs.unit_create(name=f"区第{i}协办局")
        handling.assignment_create(proposal=proposal, unit=unit, role="co", actor=world.office)
    large = count_queries(client, url)
    assert small == large
