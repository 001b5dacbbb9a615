"""A confirmed list import runs as a background job: queued once, progress shown, all or nothing, retried safely."""
import threading

import pytest
from django.core.cache import cache

from banli.core.errors import ConflictError, DomainError
from banli.core.eventlog import verify
from banli.exchange import services
from banli.exchange.choices import BatchState
from banli.exchange.models import ImportBatch
from banli.exchange.tests.conftest import xlsx_bytes
from banli.handling import services as handling
from banli.handling.models import Assignment, Event
from banli.proposals import services as proposals
from banli.proposals.models import Proposal


def upload(world, data):
    return services.batch_create(actor=world.office, session=world.session, filename="清单.xlsx", data=data)


def wait_for_job(batch):
    for thread in threading.enumerate():
        if thread.name == f"import-{batch.pk}":
            thread.join(timeout=60)
    batch.refresh_from_db()
    return batch


@pytest.mark.django_db(transaction=True)
def test_confirming_on_the_page_runs_the_import_in_the_background_and_the_page_shows_its_end(
        world, list_file, client, settings):
    settings.BANLI_IMPORT_IN_BACKGROUND = True
    batch = upload(world, list_file)
    client.force_login(world.office)
    response = client.post(f"/exchange/import/{batch.pk}/", {"confirm": "1"})
    assert response.status_code == 302
    batch = wait_for_job(batch)
    assert batch.state == BatchState.IMPORTED and batch.result == {"register": 3, "assign": 6}
    assert Proposal.objects.filter(session=world.session).count() == 3 and Assignment.objects.count() == 6
    done = client.get(f"/exchange/import/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"  # the job ended: the page reloads itself
    page = client.get(f"/exchange/import/{batch.pk}/")
    assert "已导入：登记 3 件；交办 6 项；共 3 行。" in page.content.decode()


@pytest.mark.django_db
def test_a_running_import_shows_a_progress_bar_that_polls(world, list_file, client):
    batch = upload(world, list_file)
    ImportBatch.objects.filter(pk=batch.pk).update(state=BatchState.RUNNING)
    cache.set(services.progress_key(batch.pk), {"done": 1, "total": 3})
    client.force_login(world.office)
    page = client.get(f"/exchange/import/{batch.pk}/").content.decode()
    assert "正在导入：已处理 1 / 3 件（33%）" in page and 'hx-trigger="every 1s"' in page
    assert '<progress class="w-100" max="3" value="1">' in page and "要么整份清单导入，要么都不导入" in page
    fragment = client.get(f"/exchange/import/{batch.pk}/progress/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and b"<progress" in fragment.content and b"<html" not in fragment.content


@pytest.mark.django_db
def test_an_import_is_queued_once(world, list_file, django_capture_on_commit_callbacks):
    batch = upload(world, list_file)
    with django_capture_on_commit_callbacks() as callbacks:
        services.batch_import_start(batch=batch, actor=world.office)
    assert len(callbacks) == 1 and ImportBatch.objects.get(pk=batch.pk).state == BatchState.QUEUED
    with pytest.raises(ConflictError, match="已在导入或已经导入"):
        services.batch_import_start(batch=batch, actor=world.office)


@pytest.mark.django_db
def test_the_job_imports_once_even_when_delivered_twice(world, list_file):
    batch = upload(world, list_file)
    services.batch_import_start(batch=batch, actor=world.office)
    assert services.batch_import_run(batch_id=batch.pk, actor_id=world.office.pk) == {"register": 3, "assign": 6}
    events = Event.objects.count()
    assert services.batch_import_run(batch_id=batch.pk, actor_id=world.office.pk) == {"skipped": "not queued"}
    assert Event.objects.count() == events and Proposal.objects.filter(session=world.session).count() == 3
    assert cache.get(services.progress_key(batch.pk)) == {"done": 3, "total": 3}


@pytest.mark.django_db
def test_a_refused_job_writes_nothing_records_why_and_can_be_retried(world, list_file, monkeypatch):
    batch = upload(world, list_file)
    services.batch_import_start(batch=batch, actor=world.office)
    real = handling.assignment_create_many

    def refuse(**kwargs):
        raise DomainError("单位「区卫生健康局」已停用，不能交办。")

    monkeypatch.setattr(handling, "assignment_create_many", refuse)
    events = Event.objects.count()
    result = services.batch_import_run(batch_id=batch.pk, actor_id=world.office.pk)
    batch.refresh_from_db()
    assert batch.state == BatchState.FAILED and "已停用" in batch.error and "未写入任何数据" in result["error"]
    assert Proposal.objects.filter(session=world.session).count() == 0 and Event.objects.count() == events
    monkeypatch.setattr(handling, "assignment_create_many", real)
    services.batch_import_start(batch=batch, actor=world.office)
    services.batch_import_run(batch_id=batch.pk, actor_id=world.office.pk)
    assert ImportBatch.objects.get(pk=batch.pk).state == BatchState.IMPORTED


@pytest.mark.django_db
def test_a_bulk_imported_item_is_the_same_as_one_registered_and_assigned_by_hand(world):
    """The bulk services must stay what proposal_create and assignment_create do, field by field and event by event."""
    by_hand = proposals.proposal_create(actor=world.office, session=world.session, number="A1", title="关于甲的提案",
                                        proposers=["李委员", "新委员"], category="教育", is_key=True)
    handling.assignment_create(proposal=by_hand, unit=world.lead_unit, role="lead", actor=world.office)
    handling.assignment_create(proposal=by_hand, unit=world.co_unit, role="co", actor=world.office)
    data = xlsx_bytes([[1, "A2", "关于甲的提案", "李委员、新委员", "教育", "区教育局", "区住房和建设局", "", "是"]])
    services.import_list(actor=world.office, session=world.session, filename="清单.xlsx", data=data)
    bulk = Proposal.objects.get(number="A2")

    def shape(proposal):
        skip = {"id", "proposal", "proposal_id", "assigned_at", "created_at", "updated_at", "number"}
        fields = [f.attname for f in Proposal._meta.concrete_fields if f.attname not in skip]
        assignments = [{f.attname: getattr(a, f.attname) for f in Assignment._meta.concrete_fields if f.attname not in skip}
                       for a in proposal.assignments.order_by("role")]
        events = [(e.verb, e.actor_id, e.actor_role, e.to_state, e.stream == f"proposal:{proposal.pk}",
                   {k: v for k, v in e.payload.items() if k != "number"})
                  for e in Event.objects.filter(proposal=proposal).order_by("id")]
        links = [(link.proposer_id, link.is_lead, link.position) for link in proposal.proposer_links.order_by("position")]
        shown = {f: getattr(proposal, f) for f in fields}
        # The search words begin with the item's own number; the rest (title, body, proposers) must agree.
        shown["search_text"] = shown["search_text"].split(" ", 1)[1]
        return shown, assignments, events, links

    assert shape(bulk) == shape(by_hand)

    assert verify()[1] is None  # the bulk rows are chained like the others
