"""The integrator's write endpoints (issue 17, point 16): users and role grants, proposers and co-signers, deadline
policies, rule sets, score entries and 自评, and commitments, contacts, co-opinions and feedback as collections.

Thin as the rest of the API: lists are narrowed by banli.core.access (`restrict` or its named querysets), every
write is one call into a service (which checks who acts and records the event); a collection's POST runs the
same registry action as `/assignments/{id}/actions/<key>`, so there is no second write path.
"""
from __future__ import annotations

import re

import django_filters
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from banli.actions.registry import ACTIONS
from banli.api import serializers as s
from banli.api.schema import POSITIVE_ID
from banli.api.views import ERRORS, IdFilter, Pagination, StrictBooleanFilter, StrictFilters, _valid, run_action
from banli.core import access
from banli.core.errors import DomainError, NotFound, PermissionDenied
from banli.handling import services as handling
from banli.handling.choices import DeadlineStep, DeadlineUnit
from banli.handling.models import ContactRecord, DeadlinePolicy
from banli.organizations import services as orgs
from banli.organizations.choices import Role
from banli.organizations.models import RoleGrant, Unit, User
from banli.proposals import services as proposals
from banli.proposals.choices import ProposalKind, ProposerKind
from banli.proposals.models import Proposal, Proposer, Session
from banli.replies.choices import CommitmentState, CoOpinionState
from banli.replies.models import Commitment, CoOpinion, Feedback
from banli.reports import scoring
from banli.reports import services as reports
from banli.reports.choices import EvaluationState, RuleKind, RuleMode
from banli.reports.models import Evaluation, Rule, RuleSet, ScoreEntry
from banli.reports.selectors import require_report_slice

ID = {"min_value": 1, "max_value": 2**63 - 1}


def decimal_field(max_digits: int, *, signed: bool = False, **kwargs) -> serializers.DecimalField:
    """A decimal with two places, sent as a string ("2", "0.5"); the schema's pattern says exactly what DRF takes."""
    whole = max_digits - 2
    pattern = rf"^{'-?' if signed else ''}[0-9]{{1,{whole}}}(\.[0-9]{{1,2}})?$"

    @extend_schema_field({"type": "string", "pattern": pattern, "example": "1.5"})
    class Decimal(serializers.DecimalField):
        def __init__(self, **kw):
            super().__init__(max_digits=max_digits, decimal_places=2, coerce_to_string=True, **kw)

    if not signed:
        kwargs.setdefault("min_value", 0)
    return Decimal(**kwargs)


def _check_email(value: str, field: str = "email") -> str:
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise DomainError("邮箱格式不正确。", field=field) from None
    return value
WRITE_METHODS = ["get", "post", "patch", "delete", "head", "options"]


def _get(model, pk, field: str, what: str):
    obj = model.objects.filter(pk=pk).first() if pk is not None else None
    if obj is None:
        raise NotFound(f"找不到编号为 {pk} 的{what}。", field=field)
    return obj


def _session(pk, field="session") -> Session:
    return _get(Session, pk, field, "届次")


def _unit(pk, field="unit") -> Unit:
    return _get(Unit, pk, field, "单位")


# --- users and role grants ------------------------------------------------------------------------------------


class GrantBriefSerializer(serializers.ModelSerializer):
    role_label = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = RoleGrant
        fields = ["id", "role", "role_label", "unit"]


class UserSerializer(serializers.ModelSerializer):
    grants = GrantBriefSerializer(many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "display_name", "email", "is_active", "must_change_password", "last_login",
                  "date_joined", "grants"]


class UserCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text="字母、数字和 @/./+/-/_")
    password = serializers.CharField(max_length=128, required=False, allow_null=True, trim_whitespace=False,
                                     help_text="初始密码：用户首次登录须修改；省略则只能单点登录")
    display_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")


def _check_password(value) -> None:
    if value:
        try:
            validate_password(value)
        except ValidationError as exc:
            raise DomainError("初始密码不符合要求：" + "".join(exc.messages), field="password") from exc


class UserUpdateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class UserFilter(StrictFilters, django_filters.FilterSet):
    is_active = StrictBooleanFilter()
    role = django_filters.ChoiceFilter(choices=Role.choices, field_name="grants__role", distinct=True)
    unit = IdFilter(field_name="grants__unit_id", distinct=True)
    q = django_filters.CharFilter(method="filter_q", label="用户名或姓名")

    class Meta:
        model = User
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(username__icontains=value) | Q(display_name__icontains=value))


@extend_schema_view(
    create=extend_schema(request=UserCreateSerializer, responses={201: UserSerializer, **ERRORS},
                         summary="新增用户（系统管理员）"),
    partial_update=extend_schema(request=UserUpdateSerializer, responses={200: UserSerializer, **ERRORS},
                                 summary="修改用户或启用/停用（系统管理员）"),
)
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """User accounts: the administrator lists and keeps them; everyone else sees only his own account."""

    queryset = User.objects.none()  # the schema's model; get_queryset narrows the real one
    serializer_class = UserSerializer
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = UserFilter
    http_method_names = WRITE_METHODS

    def get_queryset(self):
        qs = User.objects.prefetch_related("grants").order_by("id")
        return qs if access.can_manage_users(self.request.user) else qs.filter(pk=self.request.user.pk)

    def create(self, request):
        data = _valid(UserCreateSerializer, request.data)
        if not re.fullmatch(r"[\w.@+-]+", data["username"]):
            raise DomainError("用户名只能包含字母、数字和 @/./+/-/_ 。", field="username")
        _check_password(data.get("password"))
        _check_email(data["email"])
        user = orgs.user_create(actor=request.user, username=data["username"], password=data.get("password"),
                                display_name=data["display_name"], phone=data["phone"], email=data["email"],
                                must_change_password=bool(data.get("password")))
        return Response(UserSerializer(self.get_queryset().get(pk=user.pk)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        user = self.get_object()
        data = _valid(UserUpdateSerializer, request.data)
        _check_email(data.get("email", ""))
        orgs.user_update(actor=request.user, user=user, **data)
        return Response(UserSerializer(self.get_queryset().get(pk=user.pk)).data)

    @extend_schema(request=None, responses={200: UserSerializer, **ERRORS}, summary="停用用户（系统管理员）")
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        user = self.get_object()
        orgs.user_update(actor=request.user, user=user, is_active=False)
        return Response(UserSerializer(self.get_queryset().get(pk=user.pk)).data)


class RoleGrantSerializer(serializers.ModelSerializer):
    role_label = serializers.CharField(source="get_role_display", read_only=True)

    class Meta:
        model = RoleGrant
        fields = ["id", "user", "role", "role_label", "unit", "created_at"]


class RoleGrantCreateSerializer(serializers.Serializer):
    user = serializers.IntegerField(**ID)
    role = serializers.ChoiceField(choices=Role.choices)
    unit = serializers.IntegerField(required=False, allow_null=True, help_text="提案人、系统管理员以外的角色必填",
                                    **ID)


class RoleGrantFilter(StrictFilters, django_filters.FilterSet):
    user = IdFilter(field_name="user_id")
    role = django_filters.ChoiceFilter(choices=Role.choices)
    unit = IdFilter(field_name="unit_id")

    class Meta:
        model = RoleGrant
        fields: list[str] = []


@extend_schema_view(
    create=extend_schema(request=RoleGrantCreateSerializer, responses={201: RoleGrantSerializer, **ERRORS},
                         summary="授予角色（系统管理员）"),
    destroy=extend_schema(responses={204: None, **ERRORS}, summary="撤销角色（系统管理员）"),
)
class RoleGrantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Role grants: the administrator grants and revokes; everyone else sees only his own grants."""

    queryset = RoleGrant.objects.none()  # the schema's model; get_queryset narrows the real one
    serializer_class = RoleGrantSerializer
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = RoleGrantFilter
    http_method_names = WRITE_METHODS

    def get_queryset(self):
        qs = RoleGrant.objects.order_by("id")
        return qs if access.can_manage_users(self.request.user) else qs.filter(user=self.request.user)

    def create(self, request):
        data = _valid(RoleGrantCreateSerializer, request.data)
        if not access.can_manage_users(request.user):
            raise PermissionDenied(orgs.USER_MANAGER_MESSAGE)
        user = _get(User, data["user"], "user", "用户")
        unit = _unit(data["unit"]) if data.get("unit") is not None else None
        grant = orgs.role_grant(user=user, role=data["role"], unit=unit, actor=request.user, exclusive=True)
        return Response(RoleGrantSerializer(grant).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, pk=None):
        grant = self.get_object()
        with transaction.atomic():
            locked = RoleGrant.objects.select_for_update().filter(pk=grant.pk).first()
            if locked is None:
                raise NotFound("该角色授权刚刚已被撤销。")
            orgs.role_revoke(grant=locked, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- proposers and co-signers ---------------------------------------------------------------------------------


class ProposerSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    has_account = serializers.SerializerMethodField()

    class Meta:
        model = Proposer
        fields = ["id", "name", "kind", "kind_label", "sector", "user", "has_account"]

    def get_has_account(self, obj) -> bool:
        return obj.user_id is not None


class ProposerWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    kind = serializers.ChoiceField(choices=ProposerKind.choices, default=ProposerKind.MEMBER,
                                   help_text="member 委员，deputy 代表，body 党派团体，sector 界别，committee 专委会")
    sector = serializers.CharField(max_length=100, required=False, allow_blank=True, default="",
                                   help_text="界别/代表团")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    email = serializers.CharField(max_length=254, required=False, allow_blank=True, default="")
    user = serializers.IntegerField(required=False, allow_null=True, help_text="登录账号（用户编号）", **ID)


class ProposerUpdateSerializer(ProposerWriteSerializer):
    name = serializers.CharField(max_length=100, required=False)
    kind = serializers.ChoiceField(choices=ProposerKind.choices, required=False)
    sector = serializers.CharField(max_length=100, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.CharField(max_length=254, required=False, allow_blank=True)


class ProposerFilter(StrictFilters, django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ProposerKind.choices)
    name = django_filters.CharFilter()
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label="名称")

    class Meta:
        model = Proposer
        fields: list[str] = []


def _account(data):
    if data.get("user") is None:
        return None
    return _get(User, data["user"], "user", "用户")


@extend_schema_view(
    create=extend_schema(request=ProposerWriteSerializer, responses={201: ProposerSerializer, **ERRORS},
                         summary="登记提案人（同名同类型已有则 409，不重复登记）"),
    partial_update=extend_schema(request=ProposerUpdateSerializer, responses={200: ProposerSerializer, **ERRORS},
                                 summary="修改提案人"),
)
class ProposerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Proposers (委员, 代表, 党派团体, 界别, 专委会): the offices and the administrator see and keep them all; others
    see those named on the items they see."""

    queryset = Proposer.objects.none()  # the schema's model; get_queryset narrows the real one
    serializer_class = ProposerSerializer
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProposerFilter
    http_method_names = WRITE_METHODS

    def get_queryset(self):
        return access.restrict(Proposer.objects.order_by("id"), self.request.user)

    def create(self, request):
        data = _valid(ProposerWriteSerializer, request.data)
        _check_email(data["email"])
        proposer = proposals.proposer_create(actor=request.user, name=data["name"], kind=data["kind"],
                                             sector=data["sector"], phone=data["phone"], email=data["email"],
                                             user=_account(data))
        return Response(ProposerSerializer(proposer).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        proposer = self.get_object()
        data = dict(_valid(ProposerUpdateSerializer, request.data))
        _check_email(data.get("email", ""))
        if "user" in data:
            data["user"] = _account(data)
        proposer = proposals.proposer_update(actor=request.user, proposer=proposer, **data)
        return Response(ProposerSerializer(proposer).data)


class CosignerSerializer(serializers.Serializer):
    proposer = s.ProposerRefField(help_text="提案人编号，或 {id} / {name, kind}（按名称与类型匹配，不重复登记）")


class ProposalProposerSerializer(serializers.Serializer):
    proposer = ProposerSerializer(read_only=True)
    is_lead = serializers.BooleanField(read_only=True)
    position = serializers.IntegerField(read_only=True)


class CosignerViewSet(viewsets.ViewSet):
    """The proposers of an item, lead first; its office adds and removes co-signers (联名/附议)."""

    pagination_class = None

    def _proposal(self, proposal_pk) -> Proposal:
        return access.require_proposal(self.request.user, proposal_pk)

    @extend_schema(responses={200: ProposalProposerSerializer(many=True), **ERRORS}, summary="提案人（领衔在前）")
    def list(self, request, proposal_pk=None):
        proposal = self._proposal(proposal_pk)
        links = proposal.proposer_links.select_related("proposer").order_by("-is_lead", "position", "id")
        return Response(ProposalProposerSerializer(links, many=True).data)

    @extend_schema(request=CosignerSerializer, responses={201: ProposalProposerSerializer, **ERRORS},
                   summary="增加联名（附议）提案人")
    def create(self, request, proposal_pk=None):
        proposal = self._proposal(proposal_pk)
        data = _valid(CosignerSerializer, request.data)
        link = proposals.proposal_cosigner_add(actor=request.user, proposal=proposal, proposer=data["proposer"])
        return Response(ProposalProposerSerializer(link).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, **ERRORS}, summary="移除联名（附议）提案人")
    def destroy(self, request, proposal_pk=None, pk=None):
        proposal = self._proposal(proposal_pk)
        proposer = Proposer.objects.filter(pk=pk).first()
        if proposer is None:
            raise NotFound("找不到该提案人。")
        proposals.proposal_cosigner_remove(actor=request.user, proposal=proposal, proposer=proposer)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- deadline policies ----------------------------------------------------------------------------------------


class DeadlinePolicySerializer(serializers.ModelSerializer):
    step_label = serializers.CharField(source="get_step_display", read_only=True)
    unit_label = serializers.CharField(source="get_unit_display", read_only=True)

    class Meta:
        model = DeadlinePolicy
        fields = ["id", "session", "kind", "step", "step_label", "unit", "unit_label", "amount", "fixed_date"]


class DeadlinePolicyWriteSerializer(serializers.Serializer):
    session = serializers.IntegerField(**ID)
    kind = serializers.ChoiceField(choices=ProposalKind.choices)
    step = serializers.ChoiceField(choices=DeadlineStep.choices)
    unit = serializers.ChoiceField(choices=DeadlineUnit.choices)
    amount = serializers.IntegerField(min_value=0, max_value=3650, required=False, default=0)
    fixed_date = serializers.DateField(required=False, allow_null=True, default=None)


class DeadlinePolicyUpdateSerializer(serializers.Serializer):
    unit = serializers.ChoiceField(choices=DeadlineUnit.choices, required=False)
    amount = serializers.IntegerField(min_value=0, max_value=3650, required=False)
    fixed_date = serializers.DateField(required=False, allow_null=True)


class DeadlinePolicyFilter(StrictFilters, django_filters.FilterSet):
    session = IdFilter(field_name="session_id")
    kind = django_filters.ChoiceFilter(choices=ProposalKind.choices)
    step = django_filters.ChoiceFilter(choices=DeadlineStep.choices)

    class Meta:
        model = DeadlinePolicy
        fields: list[str] = []


@extend_schema_view(
    create=extend_schema(request=DeadlinePolicyWriteSerializer, responses={201: DeadlinePolicySerializer, **ERRORS},
                         summary="设置办理期限规则（该环节已有规则则 409）"),
    partial_update=extend_schema(request=DeadlinePolicyUpdateSerializer,
                                 responses={200: DeadlinePolicySerializer, **ERRORS}, summary="修改办理期限规则"),
)
class DeadlinePolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """How each step's due date is counted for a session and kind (not secret, like the sessions); the session's
    assigning office sets them. They apply to assignments made afterwards."""

    serializer_class = DeadlinePolicySerializer
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = DeadlinePolicyFilter
    queryset = DeadlinePolicy.objects.order_by("session_id", "kind", "step", "id")
    http_method_names = WRITE_METHODS

    def create(self, request):
        data = _valid(DeadlinePolicyWriteSerializer, request.data)
        policy = handling.deadline_policy_set(actor=request.user, session=_session(data["session"]), kind=data["kind"],
                                              step=data["step"], unit=data["unit"], amount=data["amount"],
                                              fixed_date=data["fixed_date"], exclusive=True)
        return Response(DeadlinePolicySerializer(policy).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        policy = self.get_object()
        data = _valid(DeadlinePolicyUpdateSerializer, request.data)
        policy = handling.deadline_policy_set(
            actor=request.user, session=policy.session, kind=policy.kind, step=policy.step, policy=policy,
            unit=data.get("unit", policy.unit), amount=data.get("amount", policy.amount),
            fixed_date=data.get("fixed_date", policy.fixed_date))
        return Response(DeadlinePolicySerializer(policy).data)


# --- commitments, contacts, co-opinions and feedback as collections -------------------------------------------


class CommitmentSerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = Commitment
        fields = ["id", "assignment", "reply", "description", "target_date", "state", "state_label", "done_at",
                  "done_note", "progress_note", "progress_at", "section", "created_at"]


class ContactSerializer(serializers.ModelSerializer):
    phase_label = serializers.CharField(source="get_phase_display", read_only=True)
    method_label = serializers.CharField(source="get_method_display", read_only=True)

    class Meta:
        model = ContactRecord
        fields = ["id", "assignment", "phase", "phase_label", "method", "method_label", "contacted_on", "people",
                  "summary", "created_at"]


class CoOpinionReadSerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = CoOpinion
        fields = ["id", "assignment", "round", "body", "contact_person", "contact_phone", "state", "state_label",
                  "doc_number", "sent_at", "created_at"]


class FeedbackSerializer(serializers.ModelSerializer):
    proposer = serializers.CharField(source="proposer.name", read_only=True)

    class Meta:
        model = Feedback
        fields = ["id", "assignment", "reply", "proposer", "round", "attitude", "result", "comment", "submitted_at",
                  "contacted_before", "on_paper"]


def _with_assignment(serializer_class, help_text="交办记录编号"):
    """The action's request body plus the assignment it acts on."""
    return type(f"{serializer_class.__name__.removesuffix('Serializer')}CollectionSerializer", (serializer_class,), {
        "assignment": serializers.IntegerField(help_text=help_text, **ID),
        "__doc__": serializer_class.__doc__,
    })


class AssignmentRowFilter(StrictFilters, django_filters.FilterSet):
    assignment = IdFilter(field_name="assignment_id")
    proposal = IdFilter(field_name="assignment__proposal_id")
    session = IdFilter(field_name="assignment__proposal__session_id")


class CommitmentFilter(AssignmentRowFilter):
    state = django_filters.ChoiceFilter(choices=CommitmentState.choices)

    class Meta:
        model = Commitment
        fields: list[str] = []


class ContactFilter(AssignmentRowFilter):
    class Meta:
        model = ContactRecord
        fields: list[str] = []


class CoOpinionFilter(AssignmentRowFilter):
    state = django_filters.ChoiceFilter(choices=CoOpinionState.choices)

    class Meta:
        model = CoOpinion
        fields: list[str] = []


class FeedbackFilter(AssignmentRowFilter):
    class Meta:
        model = Feedback
        fields: list[str] = []


def collection(model, read_serializer, filterset, action_key: str, doc: str, summary: str):
    """A list of `model` narrowed by access.restrict, and its POST as the registry action `action_key`."""
    spec = ACTIONS[action_key]
    request_serializer = _with_assignment(spec.serializer)

    def get_queryset(self):
        return access.restrict(model.objects.order_by("id"), self.request.user)

    def create(self, request):
        body = request.data if isinstance(request.data, dict) else {}
        assignment_id = _valid(request_serializer, body)["assignment"]
        data = {k: v for k, v in body.items() if k != "assignment"}
        outcome = run_action(request, action_key, assignment_id, data)
        return Response(read_serializer(outcome.created).data, status=status.HTTP_201_CREATED)

    create = extend_schema(request=request_serializer, responses={201: read_serializer, **ERRORS},
                           summary=f"{summary}（与 /assignments/{{id}}/actions/{action_key} 相同）")(create)
    return type(f"{model.__name__}ViewSet", (mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet), {
        "__doc__": doc, "serializer_class": read_serializer, "pagination_class": Pagination,
        "filter_backends": [DjangoFilterBackend], "filterset_class": filterset, "queryset": model.objects.none(),
        "get_queryset": get_queryset, "create": create, "__module__": __name__,
    })


CommitmentViewSet = collection(Commitment, CommitmentSerializer, CommitmentFilter, "add_commitment",
                               "Commitments (落实事项) of the items the user works on.", "登记落实事项")
ContactViewSet = collection(ContactRecord, ContactSerializer, ContactFilter, "log_contact",
                            "Contact records (沟通记录): the unit's own staff only.", "登记沟通记录")
CoOpinionViewSet = collection(CoOpinion, CoOpinionReadSerializer, CoOpinionFilter, "send_co_opinion",
                              "Co-opinions (会办意见): the co-unit's own; sent ones also for the lead unit and the office.",
                              "发送会办意见")
FeedbackViewSet = collection(Feedback, FeedbackSerializer, FeedbackFilter, "rate",
                             "Ratings (测评): the proposer who rated, the rated unit's staff and the office.",
                             "提案人测评（只能本人）")


# --- rule sets, score entries and 自评 -------------------------------------------------------------------------


class RuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = Rule
        fields = ["id", "position", "kind", "label", "metric", "mode", "conditions", "points", "target", "tiers",
                  "max_points", "note"]


class RuleSetSerializer(serializers.ModelSerializer):
    rules = RuleSerializer(many=True, read_only=True)

    class Meta:
        model = RuleSet
        fields = ["id", "name", "office", "session", "cap", "description", "is_active", "created_at", "rules"]


class RuleSetCopySerializer(serializers.Serializer):
    session = serializers.IntegerField(**ID)
    source = serializers.IntegerField(help_text="复制的来源细则（如内置示例细则）", **ID)
    name = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    cap = decimal_field(6, required=False, allow_null=True, default=None)


class RuleSetUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    cap = decimal_field(6, required=False)


class RuleWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RuleKind.choices)
    label = serializers.CharField(max_length=100)
    mode = serializers.ChoiceField(choices=RuleMode.choices)
    metric = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    conditions = serializers.ListField(child=serializers.DictField(), required=False, default=list, max_length=20)
    points = decimal_field(6, signed=True, required=False, default="0")
    target = decimal_field(6, signed=True, required=False, allow_null=True, default=None)
    tiers = serializers.ListField(child=serializers.DictField(), required=False, default=list, max_length=20)
    max_points = decimal_field(6, signed=True, required=False, allow_null=True, default=None)
    position = serializers.IntegerField(min_value=1, max_value=1000, required=False, allow_null=True, default=None)
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class RuleSetFilter(StrictFilters, django_filters.FilterSet):
    session = IdFilter(field_name="session_id")
    is_active = StrictBooleanFilter()

    class Meta:
        model = RuleSet
        fields: list[str] = []


@extend_schema_view(
    create=extend_schema(request=RuleSetCopySerializer, responses={201: RuleSetSerializer, **ERRORS},
                         summary="复制细则为本届次细则（交办机构）"),
    partial_update=extend_schema(request=RuleSetUpdateSerializer, responses={200: RuleSetSerializer, **ERRORS},
                                 summary="修改细则名称或总分上限（交办机构）"),
)
class RuleSetViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Evaluation rule sets (考核评分细则) of the sessions whose figures the user reads, and the shipped templates;
    the session's assigning office copies and edits them."""

    queryset = RuleSet.objects.none()  # the schema's model; get_queryset narrows the real one
    serializer_class = RuleSetSerializer
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = RuleSetFilter
    http_method_names = WRITE_METHODS

    def get_queryset(self):
        return access.restrict(RuleSet.objects.order_by("id"), self.request.user).prefetch_related("rules")

    def create(self, request):
        data = _valid(RuleSetCopySerializer, request.data)
        source = self.get_queryset().filter(pk=data["source"]).first()
        if source is None:
            raise NotFound(f"找不到编号为 {data['source']} 的细则。", field="source")
        rule_set = reports.rule_set_copy(actor=request.user, source=source, session=_session(data["session"]),
                                         name=data["name"], cap=data["cap"])
        return Response(RuleSetSerializer(self.get_queryset().get(pk=rule_set.pk)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        rule_set = self.get_object()
        data = _valid(RuleSetUpdateSerializer, request.data)
        reports.rule_set_update(actor=request.user, rule_set=rule_set, name=data.get("name", rule_set.name),
                                cap=data.get("cap", rule_set.cap))
        return Response(RuleSetSerializer(self.get_queryset().get(pk=rule_set.pk)).data)

    @extend_schema(request=RuleWriteSerializer, responses={201: RuleSerializer, **ERRORS},
                   summary="增加考核项目（交办机构）")
    @action(detail=True, methods=["post"])
    def rules(self, request, pk=None):
        rule_set = self.get_object()
        data = _valid(RuleWriteSerializer, request.data)
        rule = reports.rule_save(actor=request.user, rule_set=rule_set, **data)
        return Response(RuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["PATCH"], request=RuleWriteSerializer, responses={200: RuleSerializer, **ERRORS},
                   parameters=[OpenApiParameter("rule_id", POSITIVE_ID, OpenApiParameter.PATH)],
                   summary="修改考核项目（交办机构；须给出整条项目）")
    @extend_schema(methods=["DELETE"], responses={204: None, **ERRORS},
                   parameters=[OpenApiParameter("rule_id", POSITIVE_ID, OpenApiParameter.PATH)],
                   summary="删除考核项目（交办机构；已有佐证的不能删）")
    @action(detail=True, methods=["patch", "delete"], url_path=r"rules/(?P<rule_id>[0-9]+)")
    def rule(self, request, pk=None, rule_id=None):
        rule_set = self.get_object()
        rule = Rule.objects.filter(pk=int(rule_id), rule_set=rule_set).first() if len(rule_id) < 19 else None
        if rule is None:
            raise NotFound("这份细则中没有该考核项目。")
        if request.method == "DELETE":
            reports.rule_delete(actor=request.user, rule=rule)
            return Response(status=status.HTTP_204_NO_CONTENT)
        data = _valid(RuleWriteSerializer, request.data)
        rule = reports.rule_save(actor=request.user, rule_set=rule_set, rule=rule, **data)
        return Response(RuleSerializer(rule).data)


class ScoreEntrySerializer(serializers.ModelSerializer):
    proposals = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = ScoreEntry
        fields = ["id", "rule", "session", "unit", "quantity", "evidence", "proposals", "entered_at"]


class ScoreEntryCreateSerializer(serializers.Serializer):
    session = serializers.IntegerField(**ID)
    unit = serializers.IntegerField(**ID)
    rule = serializers.IntegerField(help_text="依据指标为 entry 的考核项目", **ID)
    quantity = decimal_field(8)
    evidence = serializers.CharField(max_length=20_000)
    proposals = serializers.ListField(child=serializers.IntegerField(**ID), required=False, default=list,
                                      max_length=200, help_text="相关事项（提案建议编号）")


class ScoreEntryFilter(StrictFilters, django_filters.FilterSet):
    session = IdFilter(field_name="session_id")
    unit = IdFilter(field_name="unit_id")
    rule = IdFilter(field_name="rule_id")

    class Meta:
        model = ScoreEntry
        fields: list[str] = []


class ScoreEntryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bonus and deduction entries with their evidence: the office enters them; a unit reads its own."""

    queryset = ScoreEntry.objects.none()  # the schema's model; get_queryset narrows the real one
    serializer_class = ScoreEntrySerializer
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ScoreEntryFilter

    def get_queryset(self):
        return access.restrict(ScoreEntry.objects.order_by("id"), self.request.user).prefetch_related("proposals")

    @extend_schema(request=ScoreEntryCreateSerializer, responses={201: ScoreEntrySerializer, **ERRORS},
                   summary="录入加减分佐证（交办机构）")
    def create(self, request):
        data = _valid(ScoreEntryCreateSerializer, request.data)
        session, unit = _session(data["session"]), _unit(data["unit"])
        if not access.can_manage_scores(request.user, session):
            raise PermissionDenied("只有该届次的交办机构才能设置考核细则、录入加分佐证或核定自评。")
        rule = Rule.objects.filter(pk=data["rule"], rule_set=scoring.rule_set_for(session)).first()
        if rule is None:
            raise NotFound(f"本届次的考核细则中没有编号为 {data['rule']} 的考核项目。", field="rule")
        items = list(access.visible_proposals(request.user).filter(pk__in=data["proposals"], session=session))
        if len(items) != len(set(data["proposals"])):
            raise DomainError("相关事项应为本届次的提案建议编号。", field="proposals")
        entry = reports.score_entry_record(actor=request.user, session=session, unit=unit, rule=rule,
                                           quantity=data["quantity"], evidence=data["evidence"], proposals=items)
        return Response(ScoreEntrySerializer(entry).data, status=status.HTTP_201_CREATED)


class EvaluationSerializer(serializers.ModelSerializer):
    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = Evaluation
        fields = ["id", "session", "unit", "rule_set", "state", "state_label", "lines", "computed_total", "unit_note",
                  "prepared_at", "submitted_at", "office_total", "office_note", "decided_at", "version"]


class EvaluationPrepareSerializer(serializers.Serializer):
    session = serializers.IntegerField(**ID)
    unit = serializers.IntegerField(**ID)


class EvaluationSubmitSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class EvaluationDecideSerializer(serializers.Serializer):
    corrected_total = decimal_field(6, required=False, allow_null=True, default=None,
                                    help_text="调整后的得分；不调整则省略")
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")


class EvaluationFilter(StrictFilters, django_filters.FilterSet):
    session = IdFilter(field_name="session_id")
    unit = IdFilter(field_name="unit_id")
    state = django_filters.ChoiceFilter(choices=EvaluationState.choices)

    class Meta:
        model = Evaluation
        fields: list[str] = []


class EvaluationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """自评: prepared from the rules and records by the unit (or its office), submitted by the unit's office or
    leader, confirmed or corrected by the session's assigning office."""

    queryset = Evaluation.objects.none()  # the schema's model; get_queryset narrows the real one
    serializer_class = EvaluationSerializer
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = EvaluationFilter

    def get_queryset(self):
        return access.restrict(Evaluation.objects.order_by("id"), self.request.user)

    @extend_schema(request=EvaluationPrepareSerializer, responses={201: EvaluationSerializer, **ERRORS},
                   summary="生成（或刷新）单位自评")
    def create(self, request):
        data = _valid(EvaluationPrepareSerializer, request.data)
        session, unit = require_report_slice(request.user, session_id=data["session"], unit_id=data["unit"])
        evaluation = reports.evaluation_prepare(actor=request.user, session=session, unit=unit)
        return Response(EvaluationSerializer(evaluation).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EvaluationSubmitSerializer, responses={200: EvaluationSerializer, **ERRORS},
                   summary="提交自评（本单位联络员或领导）")
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        evaluation = self.get_object()
        data = _valid(EvaluationSubmitSerializer, request.data)
        evaluation = reports.evaluation_submit(actor=request.user, evaluation=evaluation, note=data["note"])
        return Response(EvaluationSerializer(evaluation).data)

    @extend_schema(request=EvaluationDecideSerializer, responses={200: EvaluationSerializer, **ERRORS},
                   summary="核定自评（交办机构）")
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        evaluation = self.get_object()
        data = _valid(EvaluationDecideSerializer, request.data)
        evaluation = reports.evaluation_decide(actor=request.user, evaluation=evaluation,
                                               corrected_total=data["corrected_total"], note=data["note"])
        return Response(EvaluationSerializer(evaluation).data)
