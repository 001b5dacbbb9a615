"""The assist pages and fragments: who may use them, what they show, and the decision log."""
import re

import pytest
from django.urls import reverse

from banli.assist import selectors, similarity, store
from banli.assist.models import SuggestionDecision
from banli.assist.selectors import routing_suggestions, suggestion_accuracy
from banli.assist.similarity import MIN_SIMILAR, Hit
from banli.core.testing import assign, walk_to
from banli.handling import services as handling
from banli.proposals import services as proposals
from banli.replies import services as replies

pytestmark = pytest.mark.django_db

SCHOOL = dict(title="关于增加学校学位和教师编制的建议", body="具体建议：一、扩建学校，增加学位。二、补充教师编制。")


_numbers = iter(range(1, 10_000))


def make_proposal(w, *, title, body):
    return proposals.proposal_create(actor=w.office, session=w.session, number=f"2025{next(_numbers):04d}", title=title,
                                     body=body, proposers=[w.proposer_record])


@pytest.fixture
def proposal(trained_world):
    p = make_proposal(trained_world, **SCHOOL)
    assign(trained_world, p, co=False)
    return p


def _get(client, user, url, *, page=False):
    """The htmx fragment (as the workbench embeds it), or the full page with page=True."""
    client.force_login(user)
    return client.get(url) if page else client.get(url, HTTP_HX_REQUEST="true")


def test_anonymous_users_are_sent_to_the_login_page(client, proposal):
    r = client.get(reverse("assist:category", args=[proposal.pk]))
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_proposers_may_not_use_the_assistant(client, trained_world, proposal):
    for name in ("category", "similar", "routing"):
        assert _get(client, trained_world.proposer, reverse(f"assist:{name}", args=[proposal.pk])).status_code == 403


def test_unit_staff_do_not_see_items_of_other_units(client, trained_world, proposal):
    r = _get(client, trained_world.other_handler, reverse("assist:similar", args=[proposal.pk]))
    assert r.status_code == 404


def test_office_sees_the_top_three_categories_and_accepting_one_is_logged(client, trained_world, proposal):
    url = reverse("assist:category", args=[proposal.pk])
    r = _get(client, trained_world.office, url)
    html = r.content.decode()
    assert r.status_code == 200 and "教育事业" in html and html.count("<li>") == 3
    r = client.post(url, {"label": "教育事业"}, HTTP_HX_REQUEST="true")
    assert "已记录：采纳" in r.content.decode()
    third = SuggestionDecision.objects.get().suggested[2]["label"]
    client.post(url, {"label": third})
    decisions = list(SuggestionDecision.objects.order_by("id"))
    assert [(d.outcome, d.top1_hit, d.top3_hit) for d in decisions] == [("accepted", True, True), ("overridden", False, True)]
    assert decisions[0].suggested[0]["label"] == "教育事业" and decisions[0].model_version
    assert suggestion_accuracy(user=trained_world.office, task="category") == {"decisions": 2, "top1_rate": 0.5, "top3_rate": 1.0}


def test_htmx_requests_get_the_fragment_and_others_the_full_page(client, trained_world, proposal):
    url = reverse("assist:category", args=[proposal.pk])
    assert "<html" not in _get(client, trained_world.office, url).content.decode()
    assert "<html" in _get(client, trained_world.office, url, page=True).content.decode()
    page = _get(client, trained_world.office, reverse("assist:proposal", args=[proposal.pk]), page=True).content.decode()
    assert reverse("assist:routing", args=[proposal.pk]) in page


def test_routing_shows_the_lead_unit_with_its_reasons_and_logs_an_override(client, trained_world, proposal):
    url = reverse("assist:routing", args=[proposal.pk])
    html = _get(client, trained_world.office, url).content.decode()
    assert "区教育局" in html and "依据词语" in html and "学校" in html
    r = client.post(url, {"lead": "区卫生健康局", "co": "区教育局"})
    assert r.status_code == 200
    decision = SuggestionDecision.objects.get(task="routing")
    assert decision.outcome == "partly" or decision.outcome == "overridden"
    assert decision.decided == {"lead": "区卫生健康局", "co": ["区教育局"]}
    assert decision.top1_hit is False


def test_only_the_assigning_office_may_record_a_routing_decision(client, trained_world, proposal):
    url = reverse("assist:routing", args=[proposal.pk])
    html = _get(client, trained_world.lead_office, url).content.decode()
    assert "<form" not in html
    r = client.post(url, {"lead": "区教育局"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "只有交办机构" in r.content.decode()
    assert not SuggestionDecision.objects.exists()


def test_similar_items_offer_same_session_duplicates_for_merging_and_show_past_replies(client, trained_world, proposal):
    w = trained_world
    twin = make_proposal(w, title="关于增加学校学位和补充教师编制的建议", body=SCHOOL["body"])
    past = w.past_proposal
    lead_a, _ = assign(w, twin, co=False)
    walk_to(w, lead_a, "replied")
    html = _get(client, w.office, reverse("assist:similar", args=[proposal.pk])).content.decode()
    assert "可并案" in html and twin.title in html
    assert "已扩建学校" in html  # the twin's sent reply
    assert past.title in html and "区政协四届四次会议" in html


def test_reply_check_shows_each_point_and_the_flags_to_the_unit_but_not_to_other_units(client, trained_world, proposal):
    w = trained_world
    lead_a = proposal.assignments.get(role="lead")

    handling.assignment_sign(assignment=lead_a, actor=w.lead_office)
    lead_a.refresh_from_db()
    handling.assignment_assign_section(assignment=lead_a, actor=w.lead_office, section=w.lead_section, handler=w.lead_handler)
    lead_a.refresh_from_db()
    reply = replies.reply_save_draft(assignment=lead_a, actor=w.lead_handler, body="我们高度重视，将积极研究。", reply_class="A")
    url = reverse("assist:reply_check", args=[reply.pk])
    html = _get(client, w.lead_handler, url).content.decode()
    assert "空泛答复" in html and "一、扩建学校" in html and "未找到" in html and "缺少联系人" in html
    # A unit's draft stays inside the unit: the office checks it only at its own review step.
    assert _get(client, w.office, url).status_code == 404
    assert _get(client, w.co_office, url).status_code in (403, 404)


def test_a_draft_being_written_can_be_checked_before_it_is_saved(client, trained_world, proposal):
    client.force_login(trained_world.lead_handler)
    body = "一、关于扩建学校，已于2025年3月完成，新增学位600个。\n二、关于教师编制，区委编办已核增编制50名。"
    r = client.post(reverse("assist:draft_check", args=[proposal.pk]),
                    {"body": body, "reply_class": "A", "contact_person": "张敏", "contact_phone": "0755-12345678"},
                    HTTP_HX_REQUEST="true")
    html = r.content.decode()
    assert r.status_code == 200 and "未发现问题" in html and "找到对应内容 2 条" in html


def test_session_topics_group_the_sessions_items(client, history_world):
    """Reached from the ledger; every item once, linked, with its lead unit; a unit leading several is named."""
    w = history_world
    ledger = _get(client, w.office, reverse("workbench:ledger"), page=True).content.decode()
    url = reverse("assist:topics", args=[w.past_session.pk])
    assert 'id="topic-links"' in ledger and f'href="{url}"' in ledger
    r = _get(client, w.office, url, page=True)
    html = r.content.decode()
    assert r.status_code == 200 and "热点归类" in html
    linked = re.findall(r'href="/proposals/(\d+)/"', html)
    assert sorted(map(int, linked)) == sorted(p.pk for p in w.history)
    assert "区生态环境局" in html and "主办：" in html
    assert re.search(r"主办：[^<]*（[2-9] 件）", html)  # one unit leads several items of a topic
    # A unit sees only its own items in the topics.
    mine = _get(client, w.lead_office, url, page=True).content.decode()
    assert 0 < len(re.findall(r'href="/proposals/(\d+)/"', mine)) < len(linked)


def test_session_topics_are_grouped_once_per_change_and_a_large_session_on_a_sample(client, history_world, monkeypatch):
    w = history_world
    url = reverse("assist:topics", args=[w.past_session.pk])
    grouped = []
    real = similarity.group_topics
    monkeypatch.setattr(similarity, "group_topics", lambda keys, *a, **k: grouped.append(len(keys)) or real(keys, *a, **k))
    first = _get(client, w.office, url).content.decode()
    assert _get(client, w.office, url).content.decode() == first and len(grouped) == 1  # the second look: cached
    proposals.proposal_update(actor=w.office, proposal=w.history[0], title="关于整治城区河道黑臭水体的建议")
    assert "整治城区河道" in _get(client, w.office, url).content.decode() and len(grouped) == 2  # an edit regroups
    monkeypatch.setattr(selectors, "TOPICS_MAX", 5)
    html = _get(client, w.office, url).content.decode()
    assert grouped[-1] == 5 and len(re.findall(r'href="/proposals/(\d+)/"', html)) == 5
    assert f"本次会议共 {len(w.history)} 件，件数较多，按固定抽取的 5 件归类" in html


def test_a_large_topic_lists_its_first_items_and_counts_all(client, history_world, monkeypatch):
    """A province's session grouped topics of a thousand items, each a row of the page: a topic lists its first
    TOPIC_ROWS items and says how many more it holds; its size and lead units count every item."""
    w = history_world
    url = reverse("assist:topics", args=[w.past_session.pk])
    full = _get(client, w.office, url).content.decode()
    sizes = [int(n) for n in re.findall(r'data-size="(\d+)"', full)]
    assert max(sizes) >= 3 and "data-topic-more" not in full
    monkeypatch.setattr(selectors, "TOPIC_ROWS", 2)
    html = _get(client, w.office, url).content.decode()
    assert [int(n) for n in re.findall(r'data-size="(\d+)"', html)] == sizes
    assert len(re.findall(r'href="/proposals/(\d+)/"', html)) == sum(min(n, 2) for n in sizes)
    assert f"另有 {max(sizes) - 2} 件未列出" in html
    assert re.findall(r"主办：[^<]*", html) == re.findall(r"主办：[^<]*", full)


def test_a_proposal_already_in_the_history_is_not_shown_as_its_own_past_item(trained_world):
    model = store.load_bundle("routing")["model"]
    title = model.past_titles[0]
    body = "具体建议：" + title
    p = make_proposal(trained_world, title=title, body=body)
    raw = model.suggest({"title": title, "content": body})
    assert any(t == title for s in raw for t, _ in s.past_items)  # the model itself finds the twin
    shown = routing_suggestions(user=trained_world.office, proposal=p)
    assert shown and all(item["title"] != title for s in shown for item in s["past_items"])


def test_weak_neighbours_are_not_offered_as_similar(trained_world, proposal, monkeypatch):
    w = trained_world
    close = make_proposal(w, title="关于增加学校学位和补充教师编制的建议", body=SCHOOL["body"])
    far = make_proposal(w, title="关于整治河道黑臭水体的建议", body="具体建议：一、清淤疏浚河道。二、截污纳管。")

    class Index:  # what the real index returns for a strong and a weak neighbour
        def search(self, title, body, *, limit, exclude):
            return [Hit(key=close.pk, score=0.4), Hit(key=far.pk, score=MIN_SIMILAR / 2)]

    monkeypatch.setattr(selectors, "_proposal_index", lambda: Index())
    shown = [item.proposal.pk for item in selectors.similar_proposals(user=w.office, proposal=proposal)]
    assert shown == [close.pk]
