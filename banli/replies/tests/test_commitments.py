"""Commitments (落实): what a B-class reply promised, followed until done; overdue and carried-over lists."""
import datetime as dt

import pytest

from banli.core.errors import DomainError
from banli.core.testing import assign, make_proposal, walk_to
from banli.replies import selectors, services


@pytest.fixture
def commitment(world):
    proposal = make_proposal(world)
    lead, _ = assign(world, proposal)
    lead = walk_to(world, lead, "replied")
    return services.commitment_record(assignment=lead, actor=world.lead_handler, description="2026年秋季新建幼儿园开园",
                                      target_date=dt.date(2026, 9, 1), reply=services.current_reply(lead))


def test_commitment_has_a_responsible_section_and_progress_the_proposer_sees(world, commitment):
    assert commitment.section == world.lead_section
    services.commitment_progress_report(commitment=commitment, actor=world.lead_handler, note="主体结构已封顶")
    mine = list(selectors.commitments(world.proposer))
    assert [c.progress_note for c in mine] == ["主体结构已封顶"]
    assert list(selectors.commitments(world.other_proposer)) == []
    assert list(selectors.commitments(world.other_office)) == []


def test_section_of_another_unit_is_refused(world):
    proposal = make_proposal(world)
    lead, _ = assign(world, proposal)
    lead = walk_to(world, lead, "replied")
    with pytest.raises(DomainError, match="本单位的科室"):
        services.commitment_record(assignment=lead, actor=world.lead_handler, description="x",
                                   target_date=dt.date(2026, 1, 1), section=world.co_section)


def test_overdue_commitments_are_listed_until_done(world, commitment):
    late = dt.date(2026, 9, 2)
    assert list(selectors.commitments(world.lead_office, overdue=True, today=late)) == [commitment]
    assert list(selectors.commitments(world.office, overdue=True, today=late)) == [commitment]
    assert list(selectors.commitments(world.lead_office, overdue=True, today=dt.date(2026, 9, 1))) == []
    services.commitment_complete(commitment=commitment, actor=world.lead_handler, note="已开园，新增学位300个")
    assert list(selectors.commitments(world.lead_office, overdue=True, today=late)) == []
    with pytest.raises(DomainError, match="已经完成"):
        services.commitment_progress_report(commitment=commitment, actor=world.lead_handler, note="再报")


def test_open_commitments_carry_over_into_next_years_tracking(world, commitment):
    year = world.session.year
    assert list(selectors.commitments(world.lead_office, carried_over_from=year)) == [commitment]
    services.commitment_complete(commitment=commitment, actor=world.lead_handler, note="完成")
    assert list(selectors.commitments(world.lead_office, carried_over_from=year)) == []


def test_other_units_cannot_report_on_the_commitment(world, commitment):
    with pytest.raises(services.PermissionDenied):
        services.commitment_progress_report(commitment=commitment, actor=world.other_handler, note="代报")
