"""Reads for replies, co-opinions, ratings and commitments: every selector takes the user."""
from __future__ import annotations

from banli.core import access
from banli.organizations.choices import Role


def template_units(user) -> list:
    """Units whose document templates the user maintains (unit office: its own units)."""
    return [g.unit for g in access.grants(user) if g.role == Role.UNIT_OFFICE and g.unit_id]


def document_templates(user):
    from banli.replies.models import DocumentTemplate

    qs = DocumentTemplate.objects.filter(is_active=True).select_related("unit", "uploaded_by")
    if access.has_role(user, Role.ASSIGNING_OFFICE) or access.has_role(user, Role.ADMIN):
        return list(qs)
    units = template_units(user)
    return [t for t in qs if t.unit is None or any(t.unit.is_within(u) for u in units)]
