from banli.core.testing import assign, make_proposal, walk_to


def test_a_proposal_walks_from_assignment_to_closed(world):
    proposal = make_proposal(world)
    lead, co = assign(world, proposal)
    closed = walk_to(world, lead, "closed")
    assert closed.state == "closed"
    proposal.refresh_from_db()
    assert proposal.status == "handling"  # the co unit has not sent its opinion yet
