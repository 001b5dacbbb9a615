"""The active role of a user holding several grants: kept in the session, chosen from access.grants().

The active role only chooses which workbench and menu the user sees; what he may see and do is still
decided by banli.core.access over all his grants.
"""
from __future__ import annotations

from banli.core.access import grants
from banli.organizations.choices import Role

SESSION_KEY = "banli_active_grant"

# Which role's workbench comes first for a user holding several.
ROLE_PRIORITY = [Role.ASSIGNING_OFFICE, Role.UNIT_OFFICE, Role.LEADER, Role.HANDLER, Role.PROPOSER, Role.ADMIN]


def sorted_grants(user) -> list:
    return sorted(grants(user), key=lambda g: (ROLE_PRIORITY.index(g.role) if g.role in ROLE_PRIORITY else 99, g.pk))


def active_grant(request):
    """The grant the user works in now: the one stored in the session if he still holds it, else the first."""
    user = request.user
    options = sorted_grants(user)
    if not options:
        return None
    wanted = request.session.get(SESSION_KEY)
    for grant in options:
        if grant.pk == wanted:
            return grant
    return options[0]


def switch(request, grant_id) -> object | None:
    """Make `grant_id` the active grant if the user holds it; returns the grant or None."""
    for grant in grants(request.user):
        if str(grant.pk) == str(grant_id):
            request.session[SESSION_KEY] = grant.pk
            return grant
    return None


def grant_label(grant) -> str:
    label = grant.get_role_display()
    return f"{label} · {grant.unit.name}" if grant.unit_id else label
