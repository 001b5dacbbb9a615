"""/healthz: 200 while this server can serve, 503 when it cannot; deployment problems show as degraded."""
import datetime as dt
import json
from unittest import mock

import pytest
from django.db import connections
from django.utils import timezone

from banli.handling.models import HolidayOverride
from banli.ops.models import Heartbeat
from banli.ops.services import heartbeat_record
from banli.supervision.tasks import deliver_due_task, run_scan

pytestmark = pytest.mark.django_db


def cover_next_year():
    HolidayOverride.objects.create(date=dt.date(timezone.localdate().year + 1, 1, 1), is_workday=False, name="元旦")


def test_health_is_ok_when_the_scheduler_ran_recently_and_the_calendar_covers_the_year(client):
    cover_next_year()
    heartbeat_record(name="deadline_scan")
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200 and body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["scheduler"]["job"] == "deadline_scan"


def test_a_scheduler_that_never_ran_degrades_the_health_but_keeps_the_server_in_rotation(client):
    cover_next_year()
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["status"] == "degraded"
    assert not response.json()["checks"]["scheduler"]["ok"]
    assert client.get("/healthz?strict=1").status_code == 503


def test_a_stale_heartbeat_is_reported_with_its_age(client, settings):
    cover_next_year()
    heartbeat_record(name="delivery", now=timezone.now() - dt.timedelta(seconds=settings.BANLI_HEALTH_SCHEDULER_MAX_AGE + 60))
    check = client.get("/healthz").json()["checks"]["scheduler"]
    assert not check["ok"] and check["age_seconds"] > settings.BANLI_HEALTH_SCHEDULER_MAX_AGE and "Celery" in check["message"]


def test_a_missing_holiday_year_is_named(client):
    heartbeat_record(name="deadline_scan")
    with mock.patch("banli.handling.holidays.package_covers", return_value=False):
        check = client.get("/healthz").json()["checks"]["calendar"]
    assert not check["ok"] and timezone.localdate().year in check["missing_years"] and "工作日历" in check["message"]


def test_a_database_that_cannot_be_reached_answers_503_without_details(client):
    with mock.patch.object(connections["default"], "cursor", side_effect=OSError("host db.internal:5432 refused")):
        response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "fail"
    assert "db.internal" not in json.dumps(response.json())  # public endpoint: the error's type only


def test_a_configured_broker_that_is_down_fails_the_health(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503 and not response.json()["checks"]["broker"]["ok"]


def test_the_scan_and_the_delivery_round_leave_a_heartbeat():
    run_scan()
    deliver_due_task()
    assert set(Heartbeat.objects.values_list("name", flat=True)) == {"deadline_scan", "delivery"}


def test_health_answers_over_plain_http_when_https_redirects_everything_else(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code in (200, 503) and client.get("/livez").status_code == 200
    assert client.get("/login/").status_code == 301
