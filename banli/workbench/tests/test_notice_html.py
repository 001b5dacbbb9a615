"""The notification centre's entries are written in Python (ledger_html.notice_groups_html): the same markup the
template wrote, checked here against that template for the cases the demo data lacks (a long reason cut at 40
characters, an event without actor or item, a unit's event, HTML in a text)."""
import datetime as dt
import re

from django.template import Context, Template

from banli.workbench.ledger_html import notice_groups_html
from banli.workbench.selectors import Notice, NoticeGroup, NoticeItem

TEMPLATE = """{% for g in groups %}
<a class="list-group-item list-group-item-action{% if g.unread %} fw-semibold{% endif %}" data-notice-group href="{% if g.proposal %}{% url 'workbench:proposal' g.proposal.pk %}{% else %}#{% endif %}">
  <div class="d-flex justify-content-between flex-wrap gap-2"><span>{% if g.unread %}<span class="badge text-bg-danger me-1">新</span>{% endif %}{% if g.proposal %}第{{ g.proposal.number }}号 {{ g.proposal.title }}{% else %}系统{% endif %}</span><span class="small text-body-secondary">{{ g.day|date:"Y-m-d" }}</span></div>
  <ul class="small text-body-secondary mb-0 ps-3">{% for e in g.events %}<li>{{ e.time }} {{ e.actor_label|default:"系统" }}{% if e.unit_id %}（{{ e.unit_name }}）{% endif %}：{{ e.verb_label }}{% if e.reason %}（{{ e.reason|truncatechars:40 }}）{% endif %}</li>{% endfor %}</ul>
</a>
{% empty %}<div class="list-group-item text-body-secondary">暂无通知。</div>{% endfor %}"""


def _notice(pk, **fields):
    values = dict(pk=pk, verb="urge", to_state="", reason="", payload=None, created_at=dt.datetime(2026, 3, 2, 1, 5),
                  proposal_id=7, assignment_id=None, unit_id=None, unit_name="", actor_label="督查室 王敏", time="09:05",
                  verb_label="催办")
    values.update(fields)
    return Notice(**values)


def _squeeze(html):
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", str(html))).strip()


def test_the_entries_are_the_templates_markup():
    groups = [
        NoticeGroup(proposal=NoticeItem(pk=7, number="20260007", title="关于<校园>安全 & 交通的建议"),
                    day=dt.date(2026, 3, 2), unread=True, events=[
                        _notice(3, reason="请于本周内" + "签收并回复办理意见" * 6, unit_id=4, unit_name="区教育局"),
                        _notice(2, actor_label="", verb_label="答复函送达提案人"),
                    ]),
        NoticeGroup(proposal=None, day=dt.date(2026, 2, 27), events=[_notice(1, proposal_id=None, reason="<b>说明</b>")]),
    ]
    expected = Template(TEMPLATE).render(Context({"groups": groups}))
    assert groups[0].events[0].reason not in expected and "签收并回复" in expected and "系统" in expected and 'href="#"' in expected
    assert _squeeze(notice_groups_html(groups)) == _squeeze(expected)
    assert _squeeze(notice_groups_html([])) == _squeeze(Template(TEMPLATE).render(Context({"groups": []})))
