"""The proposer's 答复待我测评 card: before the rating deadline it asks him to rate by then; after it, it says the
deadline has passed and that he may still rate until the office closes the item (the service accepts it), instead
of asking him to rate "before" a day already gone."""
import datetime as dt

from django.test import Client
from django.utils import timezone

from banli.core.testing import assign, make_proposal, walk_to
from banli.handling.models import Assignment
from banli.replies.services import feedback_record


def _home(user) -> str:
    client = Client()
    client.force_login(user)
    return client.get("/").content.decode()


def test_the_card_says_when_the_rating_deadline_has_passed_and_that_rating_is_still_open(world):
    lead, _co = assign(world, make_proposal(world))
    walk_to(world, lead, "replied")
    lead.refresh_from_db()
    page = _home(world.proposer)
    assert f"请于 {lead.feedback_due:%Y-%m-%d} 前测评" in page and "data-rating-late" not in page
    gone = timezone.localdate() - dt.timedelta(days=3)
    Assignment.objects.filter(pk=lead.pk).update(feedback_due=gone)
    page = _home(world.proposer)
    assert f"测评期限 {gone:%Y-%m-%d} 已过，交办机构办结前仍可测评" in page and "前测评" not in page
    # What the card promises holds: the rating is taken after the deadline.
    lead.refresh_from_db()
    feedback_record(assignment=lead, actor=world.proposer, attitude="satisfied", result="satisfied")
