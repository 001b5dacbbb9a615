"""Serializers: read shapes of the records, and the request bodies of creations and workflow actions.

They only read and validate; every write goes through the services (see views.py).
"""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.models import Assignment, Event
from banli.organizations.choices import UnitKind
from banli.organizations.models import Unit
from banli.proposals.choices import Body, Level, ProposalKind, ProposerKind
from banli.proposals.models import Proposal, Session
from banli.replies.choices import Disclosure
from banli.replies.models import Reply


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    scope = serializers.ChoiceField(choices=["read", "write"], required=False, help_text="read 只读，write 读写（默认）")
    days = serializers.IntegerField(required=False, min_value=1, max_value=3650,
                                    help_text="有效天数，默认并最多为 BANLI_API_TOKEN_DAYS")
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, help_text="用途，如“省平台对接”")


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="令牌，只显示这一次")
    token_id = serializers.IntegerField()
    scope = serializers.ChoiceField(choices=["read", "write"])
    expires_at = serializers.DateTimeField()


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    field = serializers.CharField(required=False)


# --- read shapes ---------------------------------------------------------------------------------


class UnitSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Unit
        fields = ["id", "name", "short_name", "aliases", "kind", "kind_label", "parent", "code", "is_active", "sort_order"]


class SessionSerializer(serializers.ModelSerializer):
    body_label = serializers.CharField(source="get_body_display", read_only=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Session
        fields = ["id", "name", "body", "body_label", "level", "level_label", "term", "meeting", "year",
                  "assigning_office", "is_active", "created_at"]


class UnitRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AssignmentBriefSerializer(serializers.ModelSerializer):
    unit = UnitRefSerializer(read_only=True)

    class Meta:
        model = Assignment
        fields = ["id", "unit", "role", "state", "round"]


class ProposalSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    proposers = serializers.SerializerMethodField()
    assignments = serializers.SerializerMethodField()

    class Meta:
        model = Proposal
        fields = ["id", "session", "kind", "kind_label", "number", "title", "body", "category", "is_key",
                  "submitted_on", "status", "status_label", "merged_with", "proposers", "assignments", "created_at",
                  "updated_at"]
        # 并案 is recorded by the office on the proposal page (proposals.services.proposal_merge), not written here.
        read_only_fields = ["merged_with"]

    def get_proposers(self, obj) -> list[str]:
        return [link.proposer.name for link in obj.proposer_links.all()]

    def get_assignments(self, obj) -> list[dict]:
        # One brief serializer for every row of a list (this serializer is the list's one child): building its
        # fields again for each proposal was a fifth of a 50-item page's time.
        brief = self.__dict__.get("_assignment_brief")
        if brief is None:
            brief = self.__dict__["_assignment_brief"] = AssignmentBriefSerializer()
        return [brief.to_representation(a) for a in obj.assignments.all() if a.state != AssignmentState.WITHDRAWN]


class ProposalRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    session = serializers.IntegerField(source="session_id")


class AssignmentSerializer(serializers.ModelSerializer):
    proposal = ProposalRefSerializer(read_only=True)
    unit = UnitRefSerializer(read_only=True)
    role_label = serializers.CharField(source="get_role_display", read_only=True)
    state_label = serializers.CharField(read_only=True)
    lead_section = serializers.SerializerMethodField()
    handler = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = ["id", "proposal", "unit", "role", "role_label", "state", "state_label", "round", "parent",
                  "replaces", "lead_section", "handler", "assigned_at", "signed_at", "replied_at", "opinion_sent_at",
                  "closed_at", "sign_due", "adjust_due", "opinion_due", "reply_due", "reply_due_original",
                  "reply_due_max", "feedback_due", "version"]

    def get_lead_section(self, obj) -> str | None:
        return obj.lead_section.name if obj.lead_section_id else None

    def get_handler(self, obj) -> str | None:
        return obj.handler.label if obj.handler_id else None


class ReplySerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    proposal = serializers.IntegerField(source="assignment.proposal_id", read_only=True)

    class Meta:
        model = Reply
        fields = ["id", "assignment", "proposal", "round", "version", "state", "state_label", "reply_class",
                  "disclosure", "disclosure_reason", "public_summary", "body", "contact_person", "contact_phone",
                  "review_position", "created_at", "submitted_at", "approved_at", "sent_at"]


class EventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = ["id", "proposal", "assignment", "actor", "actor_role", "verb", "from_state", "to_state", "reason",
                  "payload", "created_at"]

    def get_actor(self, obj) -> str | None:
        return obj.actor.label if obj.actor_id else None


class FiguresSerializer(serializers.Serializer):
    session = serializers.IntegerField(allow_null=True)
    unit = serializers.IntegerField(allow_null=True)
    total = serializers.IntegerField()
    by_role = serializers.DictField(child=serializers.IntegerField())
    by_state = serializers.DictField(child=serializers.IntegerField())
    by_role_and_state = serializers.DictField(child=serializers.DictField(child=serializers.IntegerField()))
    reply_rate = serializers.FloatField(allow_null=True, help_text="答复率（百分数 0–100）")
    on_time_rate = serializers.FloatField(allow_null=True, help_text="按时办结率（百分数 0–100）")
    close_rate = serializers.FloatField(allow_null=True, help_text="办结率（百分数 0–100）")
    satisfaction_rate = serializers.FloatField(allow_null=True, help_text="满意率（百分数 0–100）")
    basic_satisfaction_rate = serializers.FloatField(allow_null=True, help_text="满意及基本满意率（百分数 0–100）")
    contact_rate = serializers.FloatField(allow_null=True, help_text="沟通率（百分数 0–100）")
    fulfilment_rate = serializers.FloatField(allow_null=True, help_text="落实率（百分数 0–100）")


# --- request bodies ------------------------------------------------------------------------------


class SessionCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    body = serializers.ChoiceField(choices=Body.choices)
    level = serializers.ChoiceField(choices=Level.choices)
    year = serializers.IntegerField(min_value=1949, max_value=2200)
    term = serializers.IntegerField(min_value=1, max_value=100, default=1)
    meeting = serializers.IntegerField(min_value=1, max_value=100, default=1)
    assigning_office = serializers.IntegerField()


class UnitCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=UnitKind.choices, default=UnitKind.HANDLING_UNIT)
    parent = serializers.IntegerField(required=False, allow_null=True)
    short_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    aliases = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list, max_length=50)


# What DRF takes in a text field, as the OpenAPI document states it: no NUL character (the database cannot keep
# one), and for a field that may not be blank at least one character that is neither NUL nor whitespace (DRF trims a
# text before checking it is not blank). "\S" alone would have let a single NUL through as that character.
NO_NUL_PATTERN = r"^[^\x00]*$"
NOT_BLANK_PATTERN = r"^[^\x00]*[^\x00\s][^\x00]*$"

@extend_schema_field({
    "oneOf": [
        {"type": "string", "maxLength": 100, "minLength": 1, "pattern": NOT_BLANK_PATTERN,
         "description": "姓名或名称（按名称匹配已登记的提案人）"},
        {"type": "integer", "minimum": 1, "maximum": 2**63 - 1, "description": "已登记提案人的编号"},
        {"type": "object", "properties": {"id": {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}}, "required": ["id"],
         "additionalProperties": False},
        {"type": "object", "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100, "pattern": NOT_BLANK_PATTERN},
            "kind": {"type": "string", "enum": [k for k, _ in ProposerKind.choices]}},
         "required": ["name"], "additionalProperties": False},
    ],
})
class ProposerRefField(serializers.Field):
    """A proposer by id, or by name and kind (党派团体 such as 致公党深圳市委会 are matched, never duplicated)."""

    default_error_messages = {"invalid": "提案人应为姓名、编号，或 {{\"id\": 编号}} / {{\"name\": 名称, \"kind\": 类型}}。"}

    def to_internal_value(self, data):
        if isinstance(data, float) and data.is_integer():
            data = int(data)  # JSON Schema's integer takes 7.0 too
        if isinstance(data, dict) and isinstance(data.get("id"), float) and data["id"].is_integer():
            data = {**data, "id": int(data["id"])}
        if isinstance(data, str) and 0 < len(data) <= 100:
            return data  # a name of blanks only is refused by the matching, with its message
        if isinstance(data, int) and not isinstance(data, bool) and 0 < data < 2**63:
            return data
        if isinstance(data, dict):
            if set(data) == {"id"} and isinstance(data["id"], int) and not isinstance(data["id"], bool) \
                    and 0 < data["id"] < 2**63:
                return {"id": data["id"]}
            if set(data) <= {"name", "kind"} and isinstance(data.get("name"), str) \
                    and data.get("kind", ProposerKind.MEMBER) in ProposerKind.values:
                return {"name": data["name"][:100], "kind": data.get("kind")}  # blanks: refused by the matching
        self.fail("invalid")

    def to_representation(self, value):
        return value


class ProposalCreateSerializer(serializers.Serializer):
    session = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ProposalKind.choices, default=ProposalKind.PROPOSAL)
    number = serializers.CharField(max_length=30)
    title = serializers.CharField(max_length=300)
    proposers = serializers.ListField(child=ProposerRefField(), min_length=1, max_length=500,
                                      help_text="领衔人在前；每位为姓名、提案人编号，或 {id} / {name, kind} 对象")
    body = serializers.CharField(required=False, allow_blank=True, default="", max_length=200_000)
    category = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    is_key = serializers.BooleanField(required=False, default=False)
    submitted_on = serializers.DateField(required=False, allow_null=True, default=None)


class AssignmentCreateSerializer(serializers.Serializer):
    proposal = serializers.IntegerField()
    unit = serializers.IntegerField()
    role = serializers.ChoiceField(choices=AssignmentRole.choices)
    parent = serializers.IntegerField(required=False, allow_null=True, help_text="在本单位下级内再交办时的上级交办记录")


class ReplyDraftSerializer(serializers.Serializer):
    assignment = serializers.IntegerField()
    body = serializers.CharField(max_length=200_000)
    reply_class = serializers.CharField(max_length=4, required=False, allow_blank=True, default="")
    disclosure = serializers.ChoiceField(choices=Disclosure.choices, default=Disclosure.FULL)
    disclosure_reason = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    public_summary = serializers.CharField(max_length=20_000, required=False, allow_blank=True, default="")
    contact_person = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    contact_phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
