"""Sending: a copy to every proposer, the assigning office and the 抄送 bodies; the feedback deadline starts."""
import datetime as dt

from django.utils import timezone

from banli.core.access import require_reply_copy
from banli.core.errors import NotFound
from banli.replies import selectors, services
from banli.replies.models import ReplyDelivery
from banli.replies.tests.helpers import signed_off_reply

import pytest


def test_sending_delivers_to_each_proposer_the_office_and_the_cc_bodies(world):
    reply = signed_off_reply(world)
    reply.cc = ["区政协提案委", "区政府督查室"]
    reply.save(update_fields=["cc"])
    now = timezone.now()
    services.reply_send(reply=reply, actor=world.lead_office, now=now)
    copies = {(d.kind, d.name) for d in ReplyDelivery.objects.filter(reply=reply)}
    assert copies == {("proposer", "李委员"), ("proposer", "吴委员"), ("office", "区政府督查室"), ("cc", "区政协提案委")}
    reply.assignment.refresh_from_db()
    assert reply.assignment.state == "replied"
    assert reply.assignment.feedback_due > timezone.localdate(now) + dt.timedelta(days=14)


def test_each_co_signer_sees_his_own_copy_and_nobody_elses(world):
    reply = signed_off_reply(world)
    services.reply_send(reply=reply, actor=world.lead_office)
    mine = list(selectors.my_reply_copies(world.co_proposer))
    assert len(mine) == 1 and mine[0].proposer == world.co_proposer_record
    lead_copy = ReplyDelivery.objects.get(reply=reply, proposer=world.proposer_record)
    with pytest.raises(NotFound):
        require_reply_copy(world.co_proposer, lead_copy.pk)
    with pytest.raises(NotFound):
        require_reply_copy(world.other_handler, lead_copy.pk)
    assert require_reply_copy(world.lead_office, lead_copy.pk) == lead_copy
    services.reply_copy_open(delivery=mine[0], actor=world.co_proposer)
    mine[0].refresh_from_db()
    assert mine[0].read_at is not None


def test_a_reply_cannot_be_sent_twice(world):
    reply = signed_off_reply(world)
    services.reply_send(reply=reply, actor=world.lead_office)
    reply.refresh_from_db()
    with pytest.raises(services.DomainError):
        services.reply_send(reply=reply, actor=world.lead_office)
    assert ReplyDelivery.objects.filter(reply=reply, kind="office").count() == 1
