"""工作日历: a year the calendar package does not know is entered from the State Council's notice, and the
deadlines still ahead are counted on it."""
import datetime as dt

import chinese_calendar
import pytest
import time_machine
from django.urls import reverse

from banli.core.errors import DomainError, PermissionDenied
from banli.core.testing import PASSWORD, assign, make_proposal
from banli.handling import holidays
from banli.handling import services as handling
from banli.handling.models import Assignment, Event, HolidayOverride
from banli.supervision import services as supervision
from banli.supervision.models import Reminder
from banli.supervision.tests.helpers import frozen, lead_item

# The notice for 2026 as the State Council's office published it (国办发明电〔2025〕号, 正文), which the
# calendar package also carries: the parser must read it into exactly the package's days.
NOTICE_2026 = """一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
三、清明节：4月4日（周六）至6日（周一）放假，共3天。
四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
五、端午节：6月19日（周五）至21日（周日）放假，共3天。
六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。"""

# A made-up arrangement for a year the package does not know (the tests must not depend on the real one).
NOTICE_2027 = """一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（周五）至13日（周六）放假调休，共9天。2月14日（周日）、2月20日（周六）上班。"""

LOCAL_MORNING = "+08:00"


NOTICE_HEAD = ("国务院办公厅关于2026年部分节假日安排的通知\n各省、自治区、直辖市人民政府，国务院各部委、各直属机构：\n"
               "经国务院批准，现将2026年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。\n")
NOTICE_FOOT = ("\n节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作，遇有重大突发事件，要按规定及时报告并妥善处置，"
               "确保人民群众祥和平安度过节日假期。\n国务院办公厅")


def test_the_2026_notice_reads_into_exactly_the_packages_days():
    days = holidays.parse_notice(2026, NOTICE_HEAD + NOTICE_2026 + NOTICE_FOOT)
    assert len(days) == 39
    assert [d.date for d in days if d.is_workday] == [dt.date(2026, 1, 4), dt.date(2026, 2, 14), dt.date(2026, 2, 28),
                                                      dt.date(2026, 5, 9), dt.date(2026, 9, 20), dt.date(2026, 10, 10)]
    assert all(chinese_calendar.is_workday(d.date) == d.is_workday for d in days)
    assert {d.name for d in days if not d.is_workday} == {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"}
    # The page lists the package's arrangement for a year it knows in the same form.
    assert holidays.package_days(2026) == days


# 2025's notice: a one-day holiday without 调休, a Spring Festival across two months, and two festivals sharing days.
NOTICE_2025 = """一、元旦：1月1日（周三）放假1天，不调休。
二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
三、清明节：4月4日（周五）至6日（周日）放假，共3天。
四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。
五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。
六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。"""


def test_the_2025_notice_reads_into_the_packages_days_too():
    days = holidays.parse_notice(2025, NOTICE_2025)
    assert [(d.date, d.is_workday) for d in days] == [(d.date, d.is_workday) for d in holidays.package_days(2025)]
    assert [d.name for d in days if d.date == dt.date(2025, 10, 8)] == ["国庆节、中秋节"]


@pytest.mark.parametrize("text, message", [
    ("五、端午节：5月31日至6月2日放假，共3天。国庆节10月1日至8日放假调休，共8天。", "端午节：这一条里有两段放假日期"),
    ("", "没有识别出放假安排"),
    ("请各地区、各部门妥善安排好值班和安全、保卫等工作。", "没有识别出放假安排"),
    ("二、春节：2月5日至13日放假调休，共8天。", "春节：2月5日至2月13日是9天，与通知中的“共8天”不一致"),
    ("二、春节：2月30日至3月2日放假调休，共3天。", "春节：2027年2月30日不是有效日期"),
    ("五、端午节：6月放假。", "端午节：没有找到“某月某日至某日放假”"),
    ("二、春节：2月5日至13日放假调休，共9天。2月6日（周六）上班。", "春节：2月6日既是放假日又是上班日"),
    (NOTICE_HEAD + NOTICE_2026, "粘贴的是2026年的放假通知，年份却填的是2027年"),
])
def test_a_notice_that_does_not_add_up_is_refused_with_what_to_check(text, message):
    with pytest.raises(DomainError) as exc:
        holidays.parse_notice(2027, text)
    assert message in exc.value.message


def test_a_single_day_and_a_range_across_the_new_year_are_read():
    days = holidays.parse_notice(2027, "一、元旦：1月1日放假，与周末连休。\n七、国庆节：10月1日至7日放假调休，共7天。")
    assert [d.date for d in days][:2] == [dt.date(2027, 1, 1), dt.date(2027, 10, 1)]
    wide = holidays.parse_notice(2027, "一、元旦：１月１日（星期五）至３日放假，共３天。")
    assert [d.date for d in wide] == [dt.date(2027, 1, 1), dt.date(2027, 1, 2), dt.date(2027, 1, 3)]
    across = holidays.parse_notice(2027, "一、元旦：2026年12月31日至2027年1月2日放假，共3天。")
    assert [d.date for d in across] == [dt.date(2026, 12, 31), dt.date(2027, 1, 1), dt.date(2027, 1, 2)]


@pytest.fixture
def before_the_festival(world):
    """An item assigned on Thursday 4 February 2027, before that year's holidays are entered: signing is due three
    working days later counted Monday to Friday (Tuesday 9 February), inside the Spring Festival."""
    with time_machine.travel(dt.datetime(2027, 2, 4, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False):
        lead, _ = assign(world, make_proposal(world), co=False)
        assert lead.sign_due == dt.date(2027, 2, 9)
        yield lead


def test_entering_the_year_moves_the_deadlines_still_ahead_and_logs_each_move(world, before_the_festival):
    assert holidays.uncovered_years(dt.date(2027, 2, 4)) == [2027]
    summary = handling.holiday_year_set(year=2027, days=holidays.parse_notice(2027, NOTICE_2027), actor=world.office)
    assert summary | {"replaced": 0} == {"year": 2027, "holidays": 12, "workdays": 2, "replaced": 0, "recounted": 1}
    lead = Assignment.objects.get(pk=before_the_festival.pk)
    assert lead.sign_due == dt.date(2027, 2, 16)  # Sunday 14th (worked), Monday 15th, Tuesday 16th
    event = Event.objects.get(assignment=lead, verb="deadline_recount")
    assert event.payload["sign_due"] == ["2027-02-09", "2027-02-16"]
    assert Event.objects.filter(verb="holiday_calendar", proposal__isnull=True).count() == 1
    assert holidays.uncovered_years(dt.date(2027, 2, 4)) == []

    # Entering it again (a corrected notice) replaces the year's days instead of adding to them.
    handling.holiday_year_set(year=2027, days=holidays.parse_notice(2027, NOTICE_2027.split("\n")[1]), actor=world.office)
    assert HolidayOverride.objects.filter(date__year=2027).count() == 11
    assert not HolidayOverride.objects.filter(date=dt.date(2027, 1, 1)).exists()


def test_a_refused_save_changes_nothing(world, before_the_festival):
    handling.holiday_day_set(date=dt.date(2027, 3, 1), is_workday=False, name="地方假日", actor=world.office)
    before = list(HolidayOverride.objects.values_list("date", "is_workday"))
    days = holidays.parse_notice(2027, NOTICE_2027) + [holidays.Day(dt.date(2031, 1, 1), False, "元旦")]
    with pytest.raises(DomainError, match="不在2027年前后"):
        handling.holiday_year_set(year=2027, days=days, actor=world.office)
    assert list(HolidayOverride.objects.values_list("date", "is_workday")) == before
    assert Assignment.objects.get(pk=before_the_festival.pk).sign_due == dt.date(2027, 2, 9)


def test_only_the_assigning_office_and_the_administrator_keep_the_calendar(world):
    with pytest.raises(PermissionDenied):
        handling.holiday_day_set(date=dt.date(2027, 3, 1), is_workday=False, name="", actor=world.lead_office)
    handling.holiday_day_set(date=dt.date(2027, 3, 1), is_workday=False, name="", actor=world.admin)
    handling.holiday_day_delete(date=dt.date(2027, 3, 1), actor=world.admin)
    with pytest.raises(DomainError, match="没有录入过"):
        handling.holiday_day_delete(date=dt.date(2027, 3, 1), actor=world.admin)


def test_a_passed_deadline_stays_as_it_was_and_one_still_ahead_moves(world, before_the_festival):
    assert before_the_festival.adjust_due == dt.date(2027, 2, 15)  # seven working days, Monday to Friday
    # On 10 February the sign deadline of the 9th has passed: the calendar no longer moves it.
    with time_machine.travel(dt.datetime(2027, 2, 10, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False):
        summary = handling.holiday_year_set(year=2027, days=holidays.parse_notice(2027, NOTICE_2027), actor=world.office)
    assert summary["recounted"] == 1
    lead = Assignment.objects.get(pk=before_the_festival.pk)
    assert (lead.sign_due, lead.adjust_due) == (dt.date(2027, 2, 9), dt.date(2027, 2, 20))
    assert list(Event.objects.get(assignment=lead, verb="deadline_recount").payload) == ["adjust_due"]


def _office_client(client, world):
    client.login(username=world.office.username, password=PASSWORD)
    return client


def test_the_office_is_told_pastes_the_notice_previews_and_saves(client, world):
    url = reverse("supervision:holiday_calendar")
    with time_machine.travel(dt.datetime(2026, 12, 4, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False):
        _office_client(client, world)
        home = client.get(reverse("workbench:home")).content.decode()
        assert 'data-calendar-gap="2027"' in home and "2027年的法定节假日安排尚未录入" in home

        page = client.get(url).content.decode()
        assert 'data-coverage="missing"' in page and "2027年" in page

        bad = client.post(url, {"action": "preview", "year": "2027", "notice": "二、春节：2月5日至13日放假，共8天。"})
        assert "与通知中的“共8天”不一致" in bad.content.decode()
        preview = client.post(url, {"action": "preview", "year": "2027", "notice": NOTICE_2027}).content.decode()
        assert 'data-day="2027-02-14"' in preview and "放假 12 天，调休上班 2 天" in preview
        assert not HolidayOverride.objects.exists()  # a preview saves nothing

        saved = client.post(url, {"action": "save", "year": "2027", "notice": NOTICE_2027}, follow=True)
        text = saved.content.decode()
        assert text.count("已保存2027年节假日安排：放假 12 天，调休上班 2 天") == 1  # shown once, by the base page
        assert 'data-coverage="entered"' in text and 'data-entered="2027-02-20"' in text
        assert HolidayOverride.objects.filter(date__year=2027).count() == 14
        assert "data-calendar-gap" not in client.get(reverse("workbench:home")).content.decode()

        client.post(url, {"action": "day", "date": "2027-03-01", "is_workday": "0", "name": "地方假日"})
        assert HolidayOverride.objects.get(date=dt.date(2027, 3, 1)).is_workday is False
        client.post(url, {"action": "delete", "date": "2027-03-01"})
        assert not HolidayOverride.objects.filter(date=dt.date(2027, 3, 1)).exists()
        missing_date = client.post(url, {"action": "day", "date": "", "is_workday": "0"}).content.decode()
        assert "请填写日期。" in missing_date


def test_a_year_the_package_knows_needs_nothing_entered(client, world):
    with time_machine.travel(dt.datetime(2026, 6, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False):
        _office_client(client, world)
        page = client.get(reverse("supervision:holiday_calendar")).content.decode()
        assert 'data-coverage="package"' in page
        assert "内置日历中的2026年安排（39 天）" in page and "国庆节调休上班" in page
        assert "data-calendar-gap" not in client.get(reverse("workbench:home")).content.decode()


def test_the_office_only_links_show_only_to_the_office(client, world):
    url = reverse("supervision:notifications")
    client.login(username=world.lead_handler.username, password=PASSWORD)
    page = client.get(url).content.decode()
    assert "工作日历" not in page and "发送失败" not in page and "通知设置" in page
    client.logout()
    _office_client(client, world)
    page = client.get(url).content.decode()
    assert "工作日历" in page and "发送失败" in page and ">催办<" in page


def test_the_scan_keeps_the_entered_holidays_and_works_the_entered_weekend_day(world):

    lead_item(world, reply_due=dt.date(2027, 2, 15), assigned=dt.date(2026, 11, 20))
    with frozen(dt.date(2027, 2, 8)):  # a Monday: a working day until the year is entered
        assert supervision.scan_deadlines()["created"] == 1  # five working days ahead, Monday to Friday
    handling.holiday_year_set(year=2027, days=holidays.parse_notice(2027, NOTICE_2027), actor=world.office)
    with frozen(dt.date(2027, 2, 9)):  # now inside the Spring Festival
        assert supervision.scan_deadlines()["skipped"] == "holiday"
    with frozen(dt.date(2027, 2, 14)):  # the Sunday worked instead: one working day (the 15th) to go
        assert supervision.scan_deadlines()["created"] == 1
    assert sorted(Reminder.objects.values_list("threshold", flat=True)) == [1, 5]


def test_a_moved_deadline_is_warned_about_again_for_its_new_date(world, before_the_festival):
    with frozen(dt.date(2027, 2, 8)):  # the sign deadline (9th) is one working day away
        supervision.scan_deadlines()
    assert set(Reminder.objects.filter(kind="sign").values_list("due_date", flat=True)) == {dt.date(2027, 2, 9)}
    with time_machine.travel(dt.datetime(2027, 2, 8, 11, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False):
        handling.holiday_year_set(year=2027, days=holidays.parse_notice(2027, NOTICE_2027), actor=world.office)
    with frozen(dt.date(2027, 2, 15)):  # now due on the 16th: one working day away again
        supervision.scan_deadlines()
    assert dt.date(2027, 2, 16) in set(Reminder.objects.filter(kind="sign").values_list("due_date", flat=True))
