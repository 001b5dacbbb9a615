"""The holiday calendar for years the package does not know yet.

The State Council's office publishes each year's arrangement (国务院办公厅关于某年部分节假日安排的通知) in
November or December; until a release of the calendar package carries it, the assigning office pastes the notice
here and the deadlines and reminders count working days by it. A year with neither the package's data nor any
entry counts Monday to Friday as working days, which is wrong around the Spring Festival and National Day, so the
office is told until it enters the year.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import chinese_calendar

from banli.core.errors import DomainError
from banli.handling.models import HolidayOverride

# One holiday item of the notice: "二、春节：2月15日（农历腊月二十八、周日）至23日（…）放假调休，共9天。2月14日（周六）上班。"
# One festival or several sharing the days ("六、国庆节、中秋节：10月1日至8日放假调休，共8天。").
_FESTIVAL = r"(?:元旦|春节|清明节|劳动节|端午节|中秋节|国庆节|[\u4e00-\u9fff]{1,6}节)"
_ITEM = re.compile(rf"(?:^|[\s。；;])(?:[一二三四五六七八九十]{{1,2}}[、.．]\s*)?(?P<name>{_FESTIVAL}(?:[、和]{_FESTIVAL})*)[：:]")
_PAREN = r"(?:[（(][^）)]*[）)])?"
_RANGE = re.compile(
    rf"(?:(?P<y1>\d{{4}})年)?(?P<m1>\d{{1,2}})月(?P<d1>\d{{1,2}})日{_PAREN}"
    rf"(?:\s*[至到—\-~～]\s*(?:(?:(?P<y2>\d{{4}})年)?(?P<m2>\d{{1,2}})月)?(?P<d2>\d{{1,2}})日{_PAREN})?\s*放假"
)
# The notice's own title or opening: "关于2027年部分节假日安排的通知", "现将2027年元旦、春节……放假调休日期的具体安排".
_NOTICE_YEAR = re.compile(r"(\d{4})年(?:部分节假日|元旦)")
_TOTAL = re.compile(r"共(?P<n>\d{1,2})天")
_DAY = re.compile(rf"(?:(?P<y>\d{{4}})年)?(?P<m>\d{{1,2}})月(?P<d>\d{{1,2}})日{_PAREN}")


@dataclass(frozen=True)
class Day:
    """One day of the arrangement: a holiday, or a weekend day that is worked (调休上班)."""

    date: dt.date
    is_workday: bool
    name: str


def package_covers(year: int) -> bool:
    """Whether the installed calendar package knows this year's holidays."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


HOLIDAY_NAMES = {"New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
                 "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "Mid-autumn Festival": "中秋节",
                 "National Day": "国庆节", "Anti-Fascist 70th Day": "抗战胜利纪念日"}


def package_days(year: int) -> list[Day]:
    """The package's arrangement for a year it knows, as the notice states it: each festival's days off and the
    weekend days worked instead (ordinary weekends left out)."""
    days, day = [], dt.date(year, 1, 1)
    while day.year == year:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        if name:
            label = HOLIDAY_NAMES.get(name, name)
            if on_holiday:
                days.append(Day(day, False, label))
            elif day.weekday() >= 5:
                days.append(Day(day, True, f"{label}调休上班"))
        day += dt.timedelta(days=1)
    return days


def _date(name: str, year: int, month: str, day: str) -> dt.date:
    try:
        return dt.date(year, int(month), int(day))
    except ValueError:
        raise DomainError(f"{name}：{year}年{int(month)}月{int(day)}日不是有效日期，请核对。", field="notice") from None


def parse_notice(year: int, text: str) -> list[Day]:
    """The days of a pasted holiday notice for `year`, in date order.

    Raises DomainError, naming the holiday, when an item cannot be read, when its dates do not add up to the
    "共N天" it states, or when nothing in the text looks like an arrangement.
    """
    # NFKC: full-width digits and the ideographic space as typed in some copies of the notice.
    text = unicodedata.normalize("NFKC", text or "")
    stated = _NOTICE_YEAR.search(text)
    if stated and int(stated.group(1)) != year:
        raise DomainError(f"粘贴的是{stated.group(1)}年的放假通知，年份却填的是{year}年，请核对。", field="notice")
    items = list(_ITEM.finditer(text))
    if not items:
        raise DomainError("没有识别出放假安排。请粘贴通知中“一、元旦：1月1日至3日放假调休，共3天。1月4日（周日）上班。”"
                          "这样的条目，或在下方逐日添加。", field="notice")
    days: dict[dt.date, Day] = {}
    for i, item in enumerate(items):
        name = item.group("name")
        body = text[item.end(): items[i + 1].start() if i + 1 < len(items) else len(text)]
        ranges = list(_RANGE.finditer(body))
        if not ranges:
            raise DomainError(f"{name}：没有找到“某月某日至某日放假”，请核对这一条。", field="notice")
        if len(ranges) > 1:
            raise DomainError(f"{name}：这一条里有两段放假日期，可能漏了下一条的“某某节：”，请核对。", field="notice")
        found = ranges[0]
        start_year = int(found.group("y1") or year)
        start = _date(name, start_year, found.group("m1"), found.group("d1"))
        if found.group("d2"):
            end_year = int(found.group("y2") or (start_year if found.group("m2") is None or
                                                  int(found.group("m2")) >= start.month else start_year + 1))
            end = _date(name, end_year, found.group("m2") or found.group("m1"), found.group("d2"))
        else:
            end = start
        if end < start:
            raise DomainError(f"{name}：放假结束日期早于开始日期，请核对。", field="notice")
        span = (end - start).days + 1
        total = _TOTAL.search(body)
        if total and int(total.group("n")) != span:
            raise DomainError(f"{name}：{start:%-m月%-d日}至{end:%-m月%-d日}是{span}天，与通知中的“共{total.group('n')}天”不一致，"
                              "请核对。", field="notice")
        if span > 15:
            raise DomainError(f"{name}：放假{span}天，超过常见的长度，请核对日期。", field="notice")
        for k in range(span):
            day = start + dt.timedelta(days=k)
            days[day] = Day(day, False, name)
        # Worked weekend days are named in the sentences that end in 上班, after the holiday itself.
        rest = body[found.end():]
        for sentence in re.split(r"[。；;\n]", rest):
            if "上班" not in sentence:
                continue
            for m in _DAY.finditer(sentence):
                day = _date(name, int(m.group("y") or year), m.group("m"), m.group("d"))
                if day in days and not days[day].is_workday:
                    raise DomainError(f"{name}：{day:%-m月%-d日}既是放假日又是上班日，请核对。", field="notice")
                days[day] = Day(day, True, f"{name}调休上班")
    result = sorted(days.values(), key=lambda d: d.date)
    check_year(year, result)
    return result


def check_year(year: int, days: list[Day]) -> None:
    """A year's arrangement holds days of that year and, at most, of the years either side (元旦 across it)."""
    stray = [d.date for d in days if abs(d.date.year - year) > 1]
    if stray:
        raise DomainError(f"{min(stray):%Y年%-m月%-d日}不在{year}年前后，请核对年份。", field="notice")


def uncovered_years(today: dt.date) -> list[int]:
    """Years whose deadlines are already being counted but that have no holiday data: this year, and from
    November (when the next year's notice comes out and deadlines start to reach into it) the next one."""
    years = [today.year] + ([today.year + 1] if today.month >= 11 else [])
    missing = [y for y in years if not package_covers(y)]
    if not missing:
        return []
    entered = {d.year for d in HolidayOverride.objects.filter(date__year__in=missing).dates("date", "year")}
    return [y for y in missing if y not in entered]
