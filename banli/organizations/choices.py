"""Choices for units and roles: stable keys, Chinese labels."""
from django.db import models


class UnitKind(models.TextChoices):
    ASSIGNING_OFFICE = "assigning_office", "交办机构"
    HANDLING_UNIT = "handling_unit", "承办单位"
    SECTION = "section", "科室"


class Role(models.TextChoices):
    ASSIGNING_OFFICE = "assigning_office", "交办机构"
    UNIT_OFFICE = "unit_office", "单位联络员"
    HANDLER = "handler", "承办人"
    LEADER = "leader", "分管领导"
    PROPOSER = "proposer", "提案人/代表"
    ADMIN = "admin", "系统管理员"


UNIT_ROLES = {Role.UNIT_OFFICE, Role.HANDLER, Role.LEADER}
