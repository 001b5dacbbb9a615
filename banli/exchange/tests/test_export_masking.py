"""Exports mask proposers' personal information unless the exporting role may see it, and every export is a
security event with the client's address."""
import csv
import io
import zipfile

import pytest
from django.core.signals import request_finished
from django.db import close_old_connections
from openpyxl import load_workbook

from banli.core.security import SecurityEventMiddleware
from banli.core.testing import assign, make_proposal
from banli.exchange.ledger import HEADERS, PHONE_COLUMN
from banli.exchange.views import ledger_csv
from banli.handling.models import Event

pytestmark = pytest.mark.django_db

LI, WU = "13812340000", "13900001111"
LI_MASKED, WU_MASKED = "138****0000", "139****1111"
PHONE = HEADERS.index(PHONE_COLUMN)


@pytest.fixture
def item(world):
    for record, phone in ((world.proposer_record, LI), (world.co_proposer_record, WU)):
        record.phone, record.id_number, record.address = phone, "440301199001011234", "深圳市龙岗区龙城街道某某路1号"
        record.save()
    proposal = make_proposal(world, number="20250001", title="关于增加学位的提案")
    assign(world, proposal)
    return proposal


def _xlsx_rows(client, user, query=""):
    client.force_login(user)
    response = client.get("/exchange/ledger.xlsx" + query, REMOTE_ADDR="10.20.30.40")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    return [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]


def _all_text(rows) -> str:
    return " ".join(str(v) for row in rows for v in row if v is not None)


@pytest.mark.parametrize("role", ["office", "lead_handler", "lead_leader", "co_office"])
def test_roles_that_handle_the_item_export_phones_in_full(world, client, item, role):
    rows = _xlsx_rows(client, getattr(world, role))
    assert rows and {r[PHONE] for r in rows} == {f"{LI}、{WU}"}


def test_the_administrator_exports_only_masked_phones(world, client, item):
    rows = _xlsx_rows(client, world.admin)
    assert rows and {r[PHONE] for r in rows} == {f"{LI_MASKED}、{WU_MASKED}"}
    text = _all_text(rows)
    assert LI not in text and WU not in text and "440301199001011234" not in text and "某某路" not in text


def test_a_proposer_sees_his_own_phone_in_full_and_his_co_signers_masked(world, client, item):
    rows = _xlsx_rows(client, world.proposer)
    assert rows and {r[PHONE] for r in rows} == {f"{LI}、{WU_MASKED}"}
    assert WU not in _all_text(rows)


def test_another_unit_exports_no_row_of_the_item(world, client, item):
    rows = _xlsx_rows(client, world.other_handler)
    assert "20250001" not in _all_text(rows) and LI not in _all_text(rows)


def test_the_csv_export_masks_like_the_xlsx(world, client, item):
    client.force_login(world.admin)
    response = client.get("/exchange/ledger.csv")
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert lines[0] == HEADERS
    assert {line[PHONE] for line in lines[1:]} == {f"{LI_MASKED}、{WU_MASKED}"}
    client.force_login(world.office)
    response = client.get("/exchange/ledger.csv")
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert {line[PHONE] for line in lines[1:]} == {f"{LI}、{WU}"}


def test_each_export_is_a_security_event_with_the_client_address_and_what_was_shown(world, client, item):
    _xlsx_rows(client, world.admin, "?state=pending_sign")
    _xlsx_rows(client, world.office)
    events = list(Event.objects.filter(verb="security.export").order_by("id"))
    assert [(e.actor, e.client_ip) for e in events] == [(world.admin, "10.20.30.40"), (world.office, "10.20.30.40")]
    admin, office = (e.payload for e in events)
    assert admin["what"] == "ledger" and admin["path"] == "/exchange/ledger.xlsx" and admin["query"] == "state=pending_sign"
    assert (admin["pii_full"], admin["pii_masked"]) == (0, 4)  # two assignments, two proposers each
    assert (office["pii_full"], office["pii_masked"]) == (4, 0)


def test_a_csv_export_is_logged_when_it_has_gone_out_with_its_counts(world, client, item):
    client.force_login(world.office)
    response = client.get("/exchange/ledger.csv", REMOTE_ADDR="10.20.30.40")
    assert not Event.objects.filter(verb="security.export").exists()  # nothing has been sent yet
    b"".join(response.streaming_content)
    (event,) = Event.objects.filter(verb="security.export")
    assert event.client_ip == "10.20.30.40" and event.payload["path"] == "/exchange/ledger.csv"
    assert (event.payload["pii_full"], event.payload["pii_masked"], event.payload["complete"]) == (4, 0, True)


def test_a_csv_export_the_client_stopped_reading_is_logged_as_incomplete(world, rf, item):
    request = rf.get("/exchange/ledger.csv")
    request.user = world.admin
    response = SecurityEventMiddleware(ledger_csv)(request)
    next(iter(response.streaming_content))  # the header line, then the client goes away
    request_finished.disconnect(close_old_connections)  # keep the test database's connection open
    try:
        response.close()  # what the server does with a response it stops sending
    finally:
        request_finished.connect(close_old_connections)
    (event,) = Event.objects.filter(verb="security.export")
    assert event.payload["complete"] is False and event.actor == world.admin


def test_every_download_is_logged_not_only_the_ledger(world, client, item):
    client.force_login(world.office)
    session = world.session.pk
    for url in (f"/exchange/notices/{session}/{world.lead_unit.pk}.xlsx", f"/exchange/archive/{session}.zip",
                "/me/data.json", "/reports/dashboard.xlsx"):
        response = client.get(url, REMOTE_ADDR="10.9.8.7")
        assert response.status_code == 200, url
    logged = list(Event.objects.filter(verb="security.export").values_list("payload__path", "client_ip"))
    assert logged == [(f"/exchange/notices/{session}/{world.lead_unit.pk}.xlsx", "10.9.8.7"),
                      (f"/exchange/archive/{session}.zip", "10.9.8.7"), ("/me/data.json", "10.9.8.7"),
                      ("/reports/dashboard.xlsx", "10.9.8.7")]


def test_no_other_export_carries_proposers_personal_information(world, client, item):
    """Notices, the archive and the reports tables name proposers at most; phones, IDs and addresses never."""
    client.force_login(world.office)
    session = world.session.pk
    blobs = [client.get(f"/exchange/notices/{session}/{world.lead_unit.pk}.{fmt}").content for fmt in ("xlsx", "docx")]
    blobs.append(client.get("/reports/dashboard.xlsx").content)
    archive = client.get(f"/exchange/archive/{session}.zip")
    with zipfile.ZipFile(io.BytesIO(b"".join(archive.streaming_content))) as z:
        blobs += [z.read(name) for name in z.namelist()]
    for blob in blobs:
        texts = [blob]
        if blob[:2] == b"PK":  # an .xlsx/.docx inside: look at its XML parts
            with zipfile.ZipFile(io.BytesIO(blob)) as inner:
                texts = [inner.read(n) for n in inner.namelist()]
        for text in texts:
            for secret in (LI, WU, "440301199001011234", "某某路"):
                assert secret.encode() not in text


def test_the_api_lists_carry_no_personal_information(world, client, item):
    client.force_login(world.office)
    for collection in ("proposals", "assignments", "replies", "events"):
        body = client.get(f"/api/v1/{collection}").content.decode()
        for secret in (LI, WU, "440301199001011234", "某某路"):
            assert secret not in body, collection
