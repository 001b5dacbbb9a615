"""`manage.py demo_accounts`: print the demo accounts (one per role at least) as a Chinese table."""
from __future__ import annotations

import unicodedata

from django.conf import settings
from django.core.management.base import BaseCommand

from banli.demo.builder import DEMO_PASSWORD, demo_accounts

# Shown first, in this order: one account per role and the units a visitor is most likely to try.
HIGHLIGHTS = [
    "admin", "city_office", "office", "gov_leader", "gov_handler",
    "edu_office", "edu_handler", "edu_leader", "health_office", "health_handler", "housing_office", "cedu_office",
    "wy_li", "wy_chen", "mm_qu", "sz_huang", "db_zhao",
]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def table(rows: list[list[str]]) -> str:
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        lines.append("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


class Command(BaseCommand):
    help = "列出演示账号（用户名、密码、角色、单位）"

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="列出全部演示账号")

    def handle(self, *args, all: bool, **options):
        accounts = demo_accounts()
        if not accounts:
            self.stdout.write("尚未载入演示数据：请先运行 BANLI_DEMO=1 manage.py load_demo。")
            return
        password = DEMO_PASSWORD if settings.DEMO_MODE else "（未开启演示模式，演示账号不能登录；设置 BANLI_DEMO=1）"
        by_name = {a["username"]: a for a in accounts}
        chosen = accounts if all else [by_name[name] for name in HIGHLIGHTS if name in by_name]
        rows = [["用户名", "密码", "姓名", "角色", "单位"]]
        for account in chosen:
            roles = "、".join(account["roles"]) + ("（超级管理员）" if account["superuser"] else "")
            rows.append([account["username"], DEMO_PASSWORD if settings.DEMO_MODE else "-", account["name"], roles,
                         "、".join(account["units"]) or "-"])
        self.stdout.write("演示账号（登录 /login/，管理后台 /admin/ 用 admin 登录）：")
        self.stdout.write(table(rows))
        if not all:
            self.stdout.write(
                f"共 {len(accounts)} 个演示账号。各承办单位另有 <代码>_office（联络员）、<代码>_handler（承办人）、"
                f"<代码>_leader（分管领导），如 water_office、cplan_leader；全部列出：manage.py demo_accounts --all"
            )
        self.stdout.write(f"密码：{password}")
