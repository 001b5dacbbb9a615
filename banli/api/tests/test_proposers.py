"""党派团体 proposers are matched by id or by name and kind, never duplicated silently (issue 17, point 3).

Seed 001 (致公党深圳市委会) is exactly this case: a body registered with its own account names itself as the
proposer; the item must reach that account, through the API and through the import alike."""
import pytest

from banli.core.testing import make_user
from banli.exchange import services as exchange
from banli.exchange.tests.conftest import xlsx_bytes
from banli.organizations.choices import Role
from banli.proposals.choices import ProposerKind
from banli.proposals.models import Proposal, Proposer

pytestmark = pytest.mark.django_db

BODY = "致公党深圳市委会"


@pytest.fixture
def party(world):
    account = make_user("zhigong", BODY, (Role.PROPOSER, None))
    return Proposer.objects.create(name=BODY, kind=ProposerKind.BODY, user=account)


def _post(api, world, number, proposers):
    return api(world.office).post("/api/v1/proposals", {
        "session": world.session.pk, "number": number, "title": "关于支持侨资企业发展的提案", "proposers": proposers,
    }, format="json")


@pytest.mark.parametrize("ref", [BODY, {"name": BODY, "kind": "body"}, "id"])
def test_the_api_links_a_registered_body_by_name_kind_or_id(world, party, api, ref):
    ref = {"id": party.pk} if ref == "id" else ref
    r = _post(api, world, "20250101", [ref, "李委员"])
    assert r.status_code == 201, r.json()
    proposal = Proposal.objects.get(pk=r.json()["id"])
    assert [link.proposer_id for link in proposal.proposer_links.order_by("position")] == [
        party.pk, world.proposer_record.pk]
    assert Proposer.objects.filter(name=BODY).count() == 1
    mine = api(party.user).get("/api/v1/proposals").json()["results"]
    assert [p["id"] for p in mine] == [proposal.pk]  # the body's own account sees (and will rate) its item


def test_an_unknown_id_or_an_ambiguous_name_is_refused_with_the_field(world, party, api):
    r = _post(api, world, "20250102", [{"id": 999999}])
    assert r.status_code == 400 and r.json()["field"] == "proposers"
    Proposer.objects.create(name=BODY, kind=ProposerKind.MEMBER, user=make_user("zg2", "同名委员"))
    r = _post(api, world, "20250103", [BODY])
    assert r.status_code == 400 and r.json()["field"] == "proposers" and "编号" in r.json()["message"]
    assert not Proposal.objects.filter(number="20250103").exists()
    r = _post(api, world, "20250104", [{"name": BODY, "kind": "body"}])
    assert r.status_code == 201 and Proposer.objects.filter(name=BODY).count() == 2


def test_the_import_links_the_registered_body_too(world, party):
    data = xlsx_bytes([[1, "20250201", "关于支持侨资企业发展的提案", f"{BODY}、李委员", "经济", "区教育局", "", "", "否"]])
    plan, counts = exchange.import_list(actor=world.office, session=world.session, filename="清单.xlsx", data=data,
                                        dry_run=False, answers=None)
    assert counts and counts["register"] == 1
    proposal = Proposal.objects.get(number="20250201")
    assert proposal.proposer_links.get(position=0).proposer_id == party.pk
    assert Proposer.objects.filter(name=BODY).count() == 1
