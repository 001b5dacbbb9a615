"""End-to-end: the assigning office enters a year's holidays from the State Council's notice in a real browser."""
import datetime as dt

import pytest
from django.utils import timezone

from banli.handling import holidays
from banli.handling.models import HolidayOverride
from banli.workbench.tests.e2e_helpers import Person

pytestmark = [pytest.mark.e2e]


def test_the_office_pastes_the_notice_checks_the_preview_and_saves(transactional_db, live_server, browser, world,
                                                                     screenshots):
    year = timezone.localdate().year
    while holidays.package_covers(year):
        year += 1  # the first year the installed calendar package does not know
    notice = ("一、元旦：1月1日至3日放假，共3天。\n"
              "二、春节：2月5日至13日放假调休，共9天。2月14日（周日）、2月20日（周六）上班。")
    office = Person(browser, live_server, world.office)
    office.open(f"/supervision/calendar/?year={year}")
    page = office.page
    assert page.locator("[data-coverage=missing]").is_visible()
    page.fill("#id_notice", notice)
    page.click("button[value=preview]")
    page.locator("#preview").wait_for()
    assert page.locator("#preview tbody tr").count() == 14
    screenshots(page, "holiday-calendar-preview-office")
    assert not HolidayOverride.objects.exists()
    page.click("button[value=save]")
    page.locator("[data-coverage=entered]").wait_for()
    assert page.locator(f"[data-entered='{year}-02-20']").is_visible()
    assert HolidayOverride.objects.get(date=dt.date(year, 2, 20)).is_workday is True
    screenshots(page, "holiday-calendar-saved-office")
    assert office.errors == []
    assert all(url.startswith(live_server.url) for url in office.requests)
