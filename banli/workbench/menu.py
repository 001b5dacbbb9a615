"""Each role's menu: the daily tools of the active role, in groups, defined once for the base layout.

The menu only shows the way; whether a page may be opened is still decided by banli.core.access in its view.
A browser test (test_e2e_roles) checks that every page a role may open is reachable from its home within two clicks.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import get_script_prefix, get_urlconf, reverse

from banli.organizations.choices import Role

OFFICE = Role.ASSIGNING_OFFICE
UNIT_OFFICE = Role.UNIT_OFFICE
HANDLER = Role.HANDLER
LEADER = Role.LEADER
PROPOSER = Role.PROPOSER
ADMIN = Role.ADMIN
UNIT_STAFF = (UNIT_OFFICE, HANDLER, LEADER)
STAFF = (OFFICE, ADMIN, *UNIT_STAFF)


@dataclass(frozen=True)
class Item:
    label: str
    url_name: str
    roles: tuple
    nav: str = ""  # the page's `nav` key that marks the item active

    def url(self) -> str:
        return reverse(self.url_name)


@dataclass(frozen=True)
class Group:
    label: str
    items: tuple
    nav: str = ""
    roles: tuple = field(default=STAFF)


MENU = (
    Group("工作台", (Item("工作台", "workbench:home", STAFF + (PROPOSER,), "home"),), nav="home",
          roles=STAFF + (PROPOSER,)),
    Group("台账", (
        Item("台账", "workbench:ledger", STAFF, "ledger"),
        Item("导出台账", "exchange:index", (ADMIN, *UNIT_STAFF)),
    ), nav="ledger"),
    Group("交办", (
        Item("登记交办", "workbench:register", (OFFICE, ADMIN), "register"),
        Item("导入交办清单", "exchange:import_upload", (OFFICE,)),
        Item("导入提案正文", "exchange:import_bodies", (OFFICE,)),
        Item("交办通知与归档", "exchange:index", (OFFICE,), "exchange"),
    ), nav="register", roles=(OFFICE, ADMIN)),
    Group("督办", (
        Item("催办", "supervision:urge", (OFFICE,)),
        Item("重点提案", "supervision:key_items", STAFF),
        Item("答复落实", "replies:commitments", STAFF),
        Item("测评未反馈", "replies:missing_feedback", STAFF),
        Item("发送失败", "supervision:failed_deliveries", (OFFICE, ADMIN)),
        Item("事件推送", "supervision:subscriptions", (OFFICE, ADMIN)),
        Item("工作日历", "supervision:holiday_calendar", (OFFICE, ADMIN)),
    ), nav="supervision"),
    Group("统计", (
        Item("统计概览", "reports:home", STAFF),
        Item("指标明细", "reports:figures", STAFF),
        Item("考核得分", "reports:score", (OFFICE, ADMIN, *UNIT_STAFF)),
        Item("考核规则", "reports:rules", STAFF),
        Item("年度总结", "reports:summary", (OFFICE, ADMIN, *UNIT_STAFF)),
        Item("全区办理总结", "reports:area_summary", (OFFICE, ADMIN)),
        Item("历年对比", "reports:compare", STAFF),
        Item("智能辅助成效", "assist:office", (OFFICE, ADMIN)),
    ), nav="reports"),
    Group("设置", (
        Item("答复审核流程", "replies:chain", (UNIT_OFFICE,)),
        Item("文书模板", "replies:templates", (OFFICE, ADMIN, UNIT_OFFICE)),
    ), nav="settings", roles=(OFFICE, ADMIN, UNIT_OFFICE)),
    Group("我的提案建议", (Item("我的提案建议", "workbench:home", (PROPOSER,), "home"),), nav="home", roles=(PROPOSER,)),
    Group("答复函", (
        Item("收到的答复函", "replies:my_copies", (PROPOSER,), "copies"),
        Item("承诺落实情况", "replies:commitments", (PROPOSER,)),
    ), nav="copies", roles=(PROPOSER,)),
    Group("公开答复", (Item("公开答复", "portal:home", STAFF + (PROPOSER,), "portal"),), nav="portal",
          roles=STAFF + (PROPOSER,)),
)

# The account menu (under the user's name): the same for every role.
ACCOUNT = (
    Item("收到的答复函", "replies:my_copies", STAFF),
    Item("通知设置", "supervision:preferences", ()),
    Item("账户安全", "account_security", ()),
    Item("修改密码", "workbench:password_change", ()),
    Item("下载我的个人数据", "my_data", ()),
)


# Built once per role, URL configuration and script prefix (about forty reverse() calls each), then shared
# read-only by every page the process renders.
_BUILT: dict[tuple, list[dict]] = {}


def _memo(kind: str, role: str, nav: str, build) -> list[dict]:
    key = (kind, role, nav, get_urlconf(), get_script_prefix())
    built = _BUILT.get(key)
    if built is None:
        built = _BUILT[key] = build()
    return built


def menu_for(role: str, nav: str = "") -> list[dict]:
    """The groups `role` sees, each with its items' labels and URLs; a group of one item is a plain link."""
    return _memo("menu", role, nav, lambda: _menu_for(role, nav))


def _menu_for(role: str, nav: str) -> list[dict]:
    groups = []
    if role == PROPOSER:
        # The proposer's own menu replaces the staff 工作台 entry by 我的提案建议.
        chosen = [g for g in MENU if role in g.roles and g.label != "工作台"]
    else:
        chosen = [g for g in MENU if role in g.roles]
    for group in chosen:
        items = [{"label": i.label, "url": i.url(), "active": bool(nav and i.nav == nav)}
                 for i in group.items if role in i.roles]
        if items:
            groups.append({"label": group.label, "items": items, "nav": group.nav,
                           "single": len(items) == 1})
    return groups


def account_menu(role: str) -> list[dict]:
    return _memo("account", role, "", lambda: [{"label": i.label, "url": i.url()} for i in ACCOUNT
                                               if not i.roles or role in i.roles])
