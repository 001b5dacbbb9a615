"""Choices for sessions, proposals and proposers."""
from django.db import models


class Body(models.TextChoices):
    CPPCC = "cppcc", "政协"
    NPC = "npc", "人大"


class Level(models.TextChoices):
    NATIONAL = "national", "全国"
    PROVINCIAL = "provincial", "省"
    CITY = "city", "市"
    DISTRICT = "district", "区县"


class ProposalKind(models.TextChoices):
    PROPOSAL = "proposal", "提案"
    SUGGESTION = "suggestion", "建议"


# What a body's sessions receive: a CPPCC's members file 提案, a people's congress's deputies 建议.
KIND_OF_BODY = {Body.CPPCC: ProposalKind.PROPOSAL, Body.NPC: ProposalKind.SUGGESTION}


class ProposerKind(models.TextChoices):
    MEMBER = "member", "委员"
    DEPUTY = "deputy", "代表"
    BODY = "body", "党派团体"
    SECTOR = "sector", "界别"
    COMMITTEE = "committee", "专委会"


# People (a member or deputy) rather than bodies: a letter adds 委员/代表 after their names.
PERSON_KINDS = ("member", "deputy")


class ProposalStatus(models.TextChoices):
    """A proposal's status, always derived from its assignments (see handling.workflow)."""

    UNASSIGNED = "unassigned", "待交办"
    ASSIGNED = "assigned", "待签收"
    HANDLING = "handling", "办理中"
    REPLIED = "replied", "已答复"
    RATED = "rated", "已测评"
    CLOSED = "closed", "已办结"


PROPOSAL_STATUS_COLOURS = {
    "unassigned": "secondary",
    "assigned": "warning",
    "handling": "primary",
    "replied": "info",
    "rated": "teal",
    "closed": "success",
}
