"""Template context for the base layout: the user's roles, the active one and the menu."""
from __future__ import annotations

from banli.workbench import menu, roles


def workbench(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    active = roles.active_grant(request)
    options = [(g, roles.grant_label(g)) for g in roles.sorted_grants(user)]
    role = active.role if active else ""
    return {
        "menu": menu.menu_for(role),
        "account_menu": menu.account_menu(role),
        "active_grant": active,
        "active_role": active.role if active else "",
        "active_grant_label": roles.grant_label(active) if active else "",
        "grant_options": options,
    }
