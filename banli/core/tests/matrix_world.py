"""The world the permission matrix probes: items of two units, one object of every kind a URL names."""
from __future__ import annotations

import io
from types import SimpleNamespace

from django.core.files.base import ContentFile
from django.utils import timezone
from openpyxl import Workbook

from banli.core.testing import assign, build_world, make_proposal, walk_to
from banli.exchange import services as ex
from banli.handling import services as handling
from banli.organizations.models import RoleGrant, User
from banli.portal.models import PublicReply
from banli.portal.services import publish_pending
from banli.replies import services as replies
from banli.replies.choices import DocumentKind
from banli.replies.documents import default_template_bytes
from banli.replies.models import CoOpinionAttachment, Reply, ReplyDelivery
from banli.reports import services as reports
from banli.reports.models import RuleSet
from banli.supervision import services as sup
from banli.supervision.models import Delivery, Digest, Notification


def build():
    w = build_world()
    w.proposer_record.phone = "13812340000"
    w.proposer_record.save()
    now = timezone.now()
    # Item A: the education bureau leads, the construction bureau co-handles; replied and rated.
    w.item_a = make_proposal(w, number="A001", title="甲单位事项：关于增加学位的提案")
    lead, co = assign(w, w.item_a)
    lead = walk_to(w, lead, "replied")
    co = handling.assignment_sign(assignment=co, actor=w.co_office)
    co = handling.assignment_assign_section(assignment=co, actor=w.co_office, section=w.co_section, handler=w.co_handler)
    w.opinion_a = replies.co_opinion_send(assignment=co, actor=w.co_handler, body="会办意见：配合推进。")

    attachment = CoOpinionAttachment(opinion=w.opinion_a, name="数据表.pdf", uploaded_by=w.co_handler)
    attachment.file.save("a.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    w.attachment_a = attachment
    w.lead_a, w.co_a = lead, co
    w.reply_a = Reply.objects.filter(assignment=lead, state="sent").first()
    w.delivery_a = ReplyDelivery.objects.filter(reply=w.reply_a, proposer=w.proposer_record).first()

    w.template_a = replies.document_template_upload(
        unit=w.lead_unit, kind=DocumentKind.PROPOSAL_REPLY, actor=w.lead_office,
        file=ContentFile(default_template_bytes(DocumentKind.PROPOSAL_REPLY), name="教育局答复函.docx"))
    # The co-signer's paper form, recorded by the office with its scan (personal information).
    w.feedback_a = replies.feedback_record_paper(
        assignment=lead, actor=w.office, proposer=w.co_proposer_record, attitude="satisfied", result="satisfied",
        scanned_form=ContentFile(b"%PDF-1.4\n% scanned rating form\n", name="scan.pdf"))
    lead.refresh_from_db()
    w.commitment_a = replies.commitment_record(assignment=lead, actor=w.lead_handler, description="年内扩建",
                                               target_date=now.date())
    # Item B: the health bureau leads, draft in progress; only the other proposer signed it.
    w.item_b = make_proposal(w, number="B001", title="乙单位事项：关于社区医院的提案", proposers=[w.other_proposer_record])
    w.lead_b = handling.assignment_create(proposal=w.item_b, unit=w.other_unit, role="lead", actor=w.office)
    w.lead_b = handling.assignment_sign(assignment=w.lead_b, actor=w.other_office)

    publish_pending()  # publication runs after commit; tests run inside one transaction
    w.public_reply = PublicReply.objects.filter(reply=w.reply_a).first()
    w.public = User.objects.create_user("citizen", password="x", display_name="无角色用户")
    w.extra = SimpleNamespace()
    _supervision(w)
    _exchange(w)
    _integration(w)
    return w


def _integration(w):
    """What the integrator's write endpoints name: a contact, a deadline policy, a rule set with a rule, a score
    entry and a self-evaluation of unit A, a role grant."""

    w.contact_a = handling.contact_log(assignment=w.lead_a, actor=w.lead_handler, phase="during", method="phone",
                                       contacted_on=timezone.localdate(),
                                       people="李委员", summary="电话沟通办理思路")
    w.deadline_policy = handling.deadline_policy_set(actor=w.office, session=w.session, kind="proposal",
                                                     step="sign", unit="working_days", amount=5)
    template = RuleSet.objects.get(session__isnull=True, office__isnull=True)  # seeded again by build_world
    w.rule_set = reports.rule_set_copy(actor=w.office, source=template, session=w.session, name="本届考核细则")
    w.rule = reports.rule_save(actor=w.office, rule_set=w.rule_set, kind="bonus", label="获领导批示", mode="per",
                               metric="entry", points=1)
    w.score_entry = reports.score_entry_record(actor=w.office, session=w.session, unit=w.lead_unit, rule=w.rule,
                                               quantity=1, evidence="区领导批示一件")
    w.evaluation = reports.evaluation_prepare(actor=w.lead_office, session=w.session, unit=w.lead_unit)
    w.role_grant = RoleGrant.objects.filter(user=w.lead_handler).order_by("id").first()


def _supervision(w):
    w.supervision_a = sup.supervision_create(actor=w.office, proposal=w.item_a, leader_name="副区长")
    User.objects.filter(pk__in=[w.lead_office.pk, w.lead_handler.pk]).update(email="unit-a@example.gov.cn")
    sup.urge_send(actor=w.office, assignments=[w.lead_b], message="请抓紧办理")
    sup.urge_send(actor=w.office, assignments=[w.lead_a], message="请跟进落实")
    sup.digests_send()
    w.notification = Notification.objects.filter(user=w.lead_handler).order_by("id").first()
    w.digest = Digest.objects.filter(user=w.office).order_by("id").first()  # the office's own digest
    w.delivery = Delivery.objects.order_by("id").first()
    w.subscription = sup.subscription_create(actor=w.office, office=w.office_unit, name="省平台",
                                             url="http://127.0.0.1:9/hook", verbs=["sign", "send_reply"])[0]


def _exchange(w):
    book = Workbook()
    book.active.append(["提案号", "案由", "提案人", "主办单位"])
    book.active.append(["X1", "关于测试的提案", "李委员", "区教育局"])
    buf = io.BytesIO()
    book.save(buf)
    w.batch = ex.batch_create(actor=w.office, session=w.session, filename="list.xlsx", data=buf.getvalue())
