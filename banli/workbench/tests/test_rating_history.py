"""The rating history by round, shown to the proposer, the unit and the office; the ledger, its export and the
summaries say how many were 不满意 in the first round and what became of them (the last round counts)."""
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from banli.core.testing import PASSWORD
from banli.exchange.ledger import HEADERS
from banli.replies.tests.helpers import first_round_outcomes, rated
from banli.reports import area, figures, summary

pytestmark = pytest.mark.django_db


@pytest.fixture
def items(world):
    return first_round_outcomes(world)


def _page(client, user, url):
    client.login(username=user.username, password=PASSWORD)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def _history(html):
    """The rating-history block's rounds as text, one string per round."""
    block = html[html.index("data-rating-history"):]
    block = block[:block.index("</div>\n      </div>") if "</div>\n      </div>" in block else len(block)]
    rounds = re.split(r'data-round="\d+"', block)[1:]
    return [re.sub(r"<[^>]+>|\s+", "", r) for r in rounds]


def test_the_unit_and_the_office_see_both_rounds_with_the_comment_and_the_rehandling(client, world, items):
    lead = items["satisfied"]
    url = reverse("workbench:proposal", args=[lead.proposal_id])
    for user in (world.lead_office, world.office):
        rounds = _history(_page(client, user, url))
        assert len(rounds) == 2, rounds
        assert "李委员：办理态度满意，办理结果不满意（学位问题没有解决。）" in rounds[0]
        assert "吴委员：办理态度满意，办理结果基本满意" in rounds[0]
        assert "重新办理：重新研究办理" in rounds[0]
        assert "李委员：办理态度满意，办理结果满意" in rounds[1] and "不满意" not in rounds[1]


def test_the_proposer_sees_his_own_ratings_by_round_on_the_proposal_page_and_his_home(client, world, items):
    lead = items["satisfied"]
    html = _page(client, world.proposer, reverse("workbench:proposal", args=[lead.proposal_id]))
    rounds = _history(html)
    assert len(rounds) == 2
    assert "办理结果不满意（学位问题没有解决。）" in rounds[0] and "重新办理" in rounds[0]
    assert "办理结果满意" in rounds[1]
    assert "吴委员" not in "".join(rounds)  # a co-signer's rating is his own
    home = re.sub(r"<[^>]+>|\s+", "", _page(client, world.proposer, reverse("workbench:home")))
    assert "我的测评（第1轮）：办理态度满意，办理结果不满意（学位问题没有解决。）→已重新办理" in home
    assert "我的测评（第2轮）：办理态度满意，办理结果满意" in home


def test_an_item_closed_as_it_stands_shows_the_offices_reason(client, world, items):
    lead = items["closed_as_is"]
    rounds = _history(_page(client, world.lead_office, reverse("workbench:proposal", args=[lead.proposal_id])))
    assert len(rounds) == 1 and "交办机构决定按现状办结：受规划条件限制，已当面说明。" in rounds[0]


def test_the_ledger_filters_and_labels_first_round_unsatisfied_items_by_what_became_of_them(client, world, items):
    url = reverse("workbench:ledger")

    def numbers(query):
        html = _page(client, world.office, f"{url}?{query}")
        return set(re.findall(r"#assignment-(\d+)", html)), html

    found, html = numbers("unsatisfied=any")
    expected = {str(items[k].pk) for k in ("satisfied", "closed_as_is", "pending", "rehandling")}
    assert found == expected
    assert "首轮不满意 · 重新办理后满意" in html and "首轮不满意 · 交办机构决定按现状办结" in html
    assert "首轮不满意 · 待重新办理或决定" in html and "首轮不满意 · 重新办理中" in html
    assert numbers("unsatisfied=satisfied")[0] == {str(items["satisfied"].pk)}
    assert numbers("unsatisfied=closed_as_is")[0] == {str(items["closed_as_is"].pk)}
    assert numbers("unsatisfied=rehandling")[0] == {str(items["rehandling"].pk)}
    assert str(items["fine"].pk) in numbers("")[0]
    # Re-handled and rated 基本满意 by both: the last round counts.
    rated(world, items["rehandling"], "basic")
    assert numbers("unsatisfied=basic")[0] == {str(items["rehandling"].pk)}
    assert "首轮不满意 · 重新办理后基本满意" in numbers("unsatisfied=basic")[1]


def test_the_ledger_export_has_the_first_round_column(client, world, items):
    # The second round: one proposer still 不满意, the other 基本满意 — the worst of the last round counts.
    rated(world, items["rehandling"], "unsatisfied", comment="仍未解决。", co_result="basic")
    client.login(username=world.office.username, password=PASSWORD)
    response = client.get("/exchange/ledger.xlsx")
    ws = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    column = HEADERS.index("首轮不满意处理")
    by_title = {row[3]: row[column] for row in ws.iter_rows(min_row=2, values_only=True)}
    assert by_title == {
        "关于学位的提案（satisfied）": "重新办理后满意",
        "关于学位的提案（closed_as_is）": "交办机构决定按现状办结",
        "关于学位的提案（pending）": "待重新办理或决定",
        "关于学位的提案（rehandling）": "重新办理后仍不满意",
        "关于学位的提案（fine）": None,
    }


def test_the_unit_and_area_summaries_say_how_many_were_unsatisfied_first_and_what_became_of_them(world, items):
    sl = figures.Slice(session_id=world.session.pk)
    assert figures.first_round_unsatisfied(sl) == {"satisfied": 1, "closed_as_is": 1, "pending": 1, "rehandling": 1}
    # The re-handled item rated again 不满意 counts as still unsatisfied: the last round counts.
    rated(world, items["rehandling"], "unsatisfied", comment="仍未解决。")
    assert figures.first_round_unsatisfied(sl)["unsatisfied"] == 1
    expected = ("首轮测评办理结果为“不满意”的4件，其中待重新办理或决定1件、重新办理后满意1件、重新办理后仍不满意1件、"
                "交办机构决定按现状办结1件")
    unit_text = "".join(summary.build(world.session, world.lead_unit).basics)
    assert expected in unit_text
    area_text = "".join(p for _, paragraphs in area.build(world.session).sections for p in paragraphs)
    assert expected in area_text
