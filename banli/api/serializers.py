"""Serializers: read shapes of the records, and the request bodies of creations and workflow actions.

They only read and validate; every write goes through the services (see views.py).
"""
from __future__ import annotations

from rest_framework import serializers

from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.models import Assignment, Event
from banli.organizations.choices import UnitKind
from banli.organizations.models import Unit
from banli.proposals.choices import Body, Level, ProposalKind
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
        live = [a for a in obj.assignments.all() if a.state != AssignmentState.WITHDRAWN]
        return AssignmentBriefSerializer(live, many=True).data


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
    reply_rate = serializers.FloatField(allow_null=True)
    on_time_rate = serializers.FloatField(allow_null=True)
    closed_rate = serializers.FloatField(allow_null=True)
    satisfied_rate = serializers.FloatField(allow_null=True)
    satisfied_or_basic_rate = serializers.FloatField(allow_null=True)
    contact_rate = serializers.FloatField(allow_null=True)
    commitment_rate = serializers.FloatField(allow_null=True)


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


class ProposalCreateSerializer(serializers.Serializer):
    session = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=ProposalKind.choices, default=ProposalKind.PROPOSAL)
    number = serializers.CharField(max_length=30)
    title = serializers.CharField(max_length=300)
    proposers = serializers.ListField(child=serializers.CharField(max_length=100), min_length=1, max_length=500)
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
