"""A list imported without categories: the preview suggests one per item; the office may take them all at once."""
import pytest
from django.urls import reverse

from banli.assist.models import SuggestionDecision
from banli.assist.tests.conftest import trained_models_dir  # noqa: F401 (fixture)
from banli.exchange import services
from banli.exchange.tests.conftest import xlsx_bytes
from banli.handling.models import Event
from banli.proposals.models import Proposal

pytestmark = pytest.mark.django_db

ROWS = [
    [1, "20250101", "关于增加幼儿园学位和教师编制的建议", "李委员", "", "区教育局", "", "", ""],
    [2, "20250102", "关于治理河道污水和扬尘的建议", "李委员", "", "区住房和建设局", "", "", ""],
    [3, "20250103", "关于社区医院建设的提案", "何委员", "卫生", "区住房和建设局", "", "", ""],
]


@pytest.fixture
def batch(world):
    return services.batch_create(actor=world.office, session=world.session, filename="清单.xlsx", data=xlsx_bytes(ROWS))


def test_the_preview_suggests_categories_for_items_without_one_and_the_import_takes_them(world, batch, client, settings,
                                                                                          trained_models_dir):  # noqa: F811
    settings.BANLI_ASSIST_DIR = trained_models_dir
    client.force_login(world.office)
    url = reverse("exchange:import_preview", args=[batch.pk])
    html = client.get(url).content.decode()
    assert "建议类别（智能辅助）" in html and 'id="fill-categories"' in html and "未填类别的 2 件" in html
    assert 'data-number="20250101"><strong>教育事业</strong>' in html
    assert 'data-number="20250102"><strong>资源环境</strong>' in html
    assert 'data-number="20250103"' not in html  # its category comes from the file

    response = client.post(url, {"confirm": "1", "fill_categories": "1"}, follow=True)
    assert "其中 2 件按智能建议填入类别" in response.content.decode()
    categories = dict(Proposal.objects.values_list("number", "category"))
    assert categories == {"20250101": "教育事业", "20250102": "资源环境", "20250103": "卫生"}
    decisions = SuggestionDecision.objects.filter(task="category")
    assert decisions.count() == 2 and all(d.outcome == "accepted" and d.top1_hit for d in decisions)
    assert Event.objects.filter(verb="proposal_update", proposal__number="20250101").exists()


def test_unticked_the_items_stay_without_a_category(world, batch, client, settings, trained_models_dir):  # noqa: F811
    settings.BANLI_ASSIST_DIR = trained_models_dir
    client.force_login(world.office)
    client.post(reverse("exchange:import_preview", args=[batch.pk]), {"confirm": "1"})
    assert Proposal.objects.filter(category="").count() == 2
    assert not SuggestionDecision.objects.exists()


def test_without_a_trained_model_the_preview_and_import_work_as_before(world, batch, client, settings, tmp_path):
    settings.BANLI_ASSIST_DIR = tmp_path / "none"
    client.force_login(world.office)
    url = reverse("exchange:import_preview", args=[batch.pk])
    html = client.get(url).content.decode()
    assert "建议类别" not in html and "确认导入" in html
    client.post(url, {"confirm": "1", "fill_categories": "1"})
    assert Proposal.objects.count() == 3 and Proposal.objects.filter(category="").count() == 2
