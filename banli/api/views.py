"""The REST API: thin views over the selectors (reads, filtered by banli.core.access) and the services (writes)."""
from __future__ import annotations

import datetime as dt

import django_filters
from django import forms
from django.contrib.auth import authenticate
from django.core.paginator import EmptyPage, Page, PageNotAnInteger
from django.core.paginator import Paginator as DjangoPaginator
from django.db import transaction
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpResponse
from django.utils.functional import cached_property
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from banli.actions.registry import ACTIONS
from banli.api import serializers as s
from banli.api.auth import PasswordChangeRequired
from banli.api.errors import error_body, error_responses
from banli.api.schema import POSITIVE_ID
from banli.api.scores import _id_param
from banli.api.selectors import figures
from banli.api.services import api_token_create
from banli.core import access
from banli.core.errors import DomainError, NotFound, PermissionDenied
from banli.exchange.documents import reply_docx
from banli.handling import services as handling
from banli.handling.models import Assignment, Event
from banli.handling.selectors import role_rank
from banli.ledger.filtersets import LedgerFilter
from banli.ledger.keyset import COUNT_CAP, capped_count, default_order
from banli.ledger.selectors import ledger_assignments
from banli.organizations import services as orgs
from banli.organizations.models import Unit, User
from banli.proposals import services as proposals
from banli.proposals.choices import ProposalKind, ProposalStatus
from banli.proposals.models import Proposal, ProposalProposer, Session
from banli.replies import services as replies
from banli.replies.choices import ReplyState
from banli.replies.models import Reply
from banli.reports.selectors import require_report_slice

ERRORS = {
    400: OpenApiResponse(s.ErrorSerializer, description="请求数据有误"),
    401: OpenApiResponse(s.ErrorSerializer, description="未登录"),
    403: OpenApiResponse(s.ErrorSerializer, description="无权执行"),
    404: OpenApiResponse(s.ErrorSerializer, description="找不到或无权查看"),
    409: OpenApiResponse(s.ErrorSerializer, description="已被他人处理"),
}


class StrictBooleanField(forms.NullBooleanField):
    """true/false (also 1/0); anything else is refused, not read as "no filter"."""

    def to_python(self, value):
        if value in (None, "") or value in (True, False):
            return value if value in (True, False) else None
        if str(value).lower() in ("true", "1"):
            return True
        if str(value).lower() in ("false", "0"):
            return False
        raise forms.ValidationError("应为 true 或 false。", code="invalid")


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)  # django-filter's BooleanWidget reads garbage as "no filter"
        super().__init__(*args, **kwargs)


class StrictFilters:
    """A filter parameter given empty (`?kind=`) is refused like any other bad value: the schema has no empty
    choice, id or boolean; only free-text filters take an empty string (and ignore it)."""

    def is_valid(self):
        valid = super().is_valid()
        for name, flt in self.filters.items():
            if self.data.get(name) == "" and type(flt) is not django_filters.CharFilter:
                self.form.add_error(name if name in self.form.fields else None, "不能为空；不按此项筛选时请省略该参数。")
                valid = False
        return valid


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": 2**63 - 1})
class IdFilter(django_filters.NumberFilter):
    """A whole number in the range of a database id (django-filter's NumberFilter takes any decimal)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(*args, **kwargs)


class CappedPaginator(DjangoPaginator):
    """Django's paginator with the ledger's count: exact up to COUNT_CAP, "more than COUNT_CAP" beyond (a slow
    count kept a minute per scope and filter). Counting a million rows exactly cost more than the page (GET
    /api/v1/replies took 4 s for the office at a million assignments, most of it the COUNT). Beyond the cap,
    pages are served while rows remain and "next" is given when one more row exists."""

    @cached_property
    def _counted(self) -> tuple[int, bool]:
        if not isinstance(self.object_list, QuerySet):
            return len(self.object_list), False
        n, capped, _at = capped_count(self.object_list)
        return n, capped

    @cached_property
    def count(self) -> int:
        return self._counted[0]

    @property
    def capped(self) -> bool:
        return self._counted[1]

    def validate_number(self, number):
        if not self.capped:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger("页码应为整数。") from None
        if number < 1:
            raise EmptyPage("页码应大于 0。")
        return number

    def page(self, number):
        if not self.capped:
            return super().page(number)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom:bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("该页没有内容。")
        page = CappedPage(rows[:self.per_page], number, self)
        page.more = len(rows) > self.per_page
        return page


class CappedPage(Page):
    more = False

    def has_next(self):
        return self.more if self.paginator.capped else super().has_next()


class Pagination(PageNumberPagination):
    """Page-number pages whose `count` is exact up to COUNT_CAP; `count_exact` is false when there are more rows
    than that (count then says COUNT_CAP): follow `next` until it is null."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = CappedPaginator

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is not None and not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= self.max_page_size):
            raise DomainError(f"参数 page_size 应为 1 到 {self.max_page_size} 的整数。", field="page_size")
        return super().get_page_size(request)

    def get_page_number(self, request, paginator):
        if request.query_params.get(self.page_query_param) in self.last_page_strings and paginator.capped:
            raise DomainError(f"共有超过 {COUNT_CAP} 行，无法直接取最后一页：请加筛选条件，或按 next 链接逐页读取。",
                              field=self.page_query_param)
        return super().get_page_number(request, paginator)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_exact"] = not self.page.paginator.capped
        return response

    def get_paginated_response_schema(self, schema):
        out = super().get_paginated_response_schema(schema)
        out["properties"]["count"]["description"] = f"行数；超过 {COUNT_CAP} 行时为 {COUNT_CAP}，此时 count_exact 为 false。"
        out["properties"]["count_exact"] = {"type": "boolean", "description": "count 是否为精确行数。"}
        out["required"] = [*out.get("required", []), "count_exact"]
        return out


def _unit(pk, field="unit") -> Unit:
    unit = Unit.objects.filter(pk=pk).first() if pk is not None else None
    if unit is None:
        raise NotFound(f"找不到编号为 {pk} 的单位。", field=field)
    return unit


def _user(pk, field="handler") -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise NotFound(f"找不到编号为 {pk} 的用户。", field=field)
    return user


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- token -----------------------------------------------------------------------------------------


class TokenView(APIView):
    """Exchange a username and password for a new API token (shown once; stored only as a hash)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=s.TokenRequestSerializer,
                   responses={200: s.TokenResponseSerializer, **error_responses(400, 401, 403, 429)},
                   auth=[], operation_id="auth_token")
    def post(self, request):
        data = _valid(s.TokenRequestSerializer, request.data)
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None or not user.is_active:
            # 401: the request is well formed, the credentials are not valid ones (a schema cannot know passwords).
            return Response(error_body("invalid_credentials", "用户名或密码不正确。"), status=status.HTTP_401_UNAUTHORIZED,
                            headers={"WWW-Authenticate": 'Bearer realm="api"'})
        if access.password_change_pending(user):
            raise PasswordChangeRequired()
        token, raw = api_token_create(user=user, scope=data.get("scope") or "write", days=data.get("days"),
                                      name=data.get("name") or "")
        return Response({"token": raw, "token_id": token.pk, "scope": token.scope,
                         "expires_at": token.expires_at.isoformat()})


# --- collections -----------------------------------------------------------------------------------


class SessionFilter(StrictFilters, django_filters.FilterSet):
    year = IdFilter()
    body = django_filters.CharFilter()
    level = django_filters.CharFilter()
    is_active = StrictBooleanFilter()

    class Meta:
        model = Session
        fields: list[str] = []


class SessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sessions (届次会次); the assigning office registers new ones."""

    serializer_class = s.SessionSerializer
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = SessionFilter
    queryset = Session.objects.order_by("-year", "id")

    @extend_schema(request=s.SessionCreateSerializer, responses={201: s.SessionSerializer, **ERRORS})
    def create(self, request):
        data = _valid(s.SessionCreateSerializer, request.data)
        session = proposals.session_create(
            actor=request.user, name=data["name"], body=data["body"], level=data["level"], year=data["year"],
            term=data["term"], meeting=data["meeting"],
            assigning_office=_unit(data["assigning_office"], "assigning_office"),
        )
        return Response(s.SessionSerializer(session).data, status=status.HTTP_201_CREATED)


class UnitFilter(StrictFilters, django_filters.FilterSet):
    kind = django_filters.CharFilter()
    parent = IdFilter(field_name="parent_id")
    is_active = StrictBooleanFilter()
    q = django_filters.CharFilter(method="filter_q", label="名称")

    class Meta:
        model = Unit
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(short_name__icontains=value))


class UnitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The unit tree (not secret: every signed-in user may read it); the administrator adds units."""

    serializer_class = s.UnitSerializer
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = UnitFilter
    queryset = Unit.objects.order_by("path", "id")

    @extend_schema(request=s.UnitCreateSerializer, responses={201: s.UnitSerializer, **ERRORS})
    def create(self, request):
        if not access.reads_everything(request.user):
            raise PermissionDenied("只有系统管理员才能新增单位。")
        data = _valid(s.UnitCreateSerializer, request.data)
        parent = _unit(data["parent"], "parent") if data.get("parent") is not None else None
        unit = orgs.unit_create(name=data["name"], kind=data["kind"], parent=parent, short_name=data["short_name"],
                                aliases=data["aliases"])
        return Response(s.UnitSerializer(unit).data, status=status.HTTP_201_CREATED)


class ProposalFilter(StrictFilters, django_filters.FilterSet):
    session = IdFilter(field_name="session_id")
    kind = django_filters.ChoiceFilter(choices=ProposalKind.choices)
    status = django_filters.ChoiceFilter(choices=ProposalStatus.choices)
    is_key = StrictBooleanFilter()
    category = django_filters.CharFilter()
    number = django_filters.CharFilter()
    q = django_filters.CharFilter(method="filter_q", label="编号或案由")

    class Meta:
        model = Proposal
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(number__icontains=value) | Q(title__icontains=value))


class ProposalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Proposals and suggestions the user may see; the assigning office registers new ones."""

    serializer_class = s.ProposalSerializer
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ProposalFilter

    def get_queryset(self):
        return access.visible_proposals(self.request.user).order_by("session_id", "number", "id").prefetch_related(
            Prefetch("proposer_links", queryset=ProposalProposer.objects.select_related("proposer")),
            Prefetch("assignments", queryset=Assignment.objects.select_related("unit").order_by(role_rank(), "id")),
        )

    @extend_schema(request=s.ProposalCreateSerializer, responses={201: s.ProposalSerializer, **ERRORS})
    def create(self, request):
        data = _valid(s.ProposalCreateSerializer, request.data)
        session = Session.objects.filter(pk=data["session"]).first()
        if session is None:
            raise NotFound(f"找不到编号为 {data['session']} 的届次。", field="session")
        proposal = proposals.proposal_create(
            actor=request.user, session=session, number=data["number"], title=data["title"],
            proposers=data["proposers"], kind=data["kind"], body=data["body"], category=data["category"],
            is_key=data["is_key"], submitted_on=data["submitted_on"],
        )
        return Response(s.ProposalSerializer(self.get_queryset().get(pk=proposal.pk)).data,
                        status=status.HTTP_201_CREATED)


class ApiLedgerFilter(StrictFilters, LedgerFilter):
    """The ledger's filters with ids for session, unit and handler: an id that names nothing lists nothing (the
    page's select boxes offer only existing ones; an integrator may send any)."""

    session = IdFilter(field_name="proposal__session_id")
    unit = IdFilter(method="filter_unit_id")
    handler = IdFilter(field_name="handler_id")

    def filter_unit_id(self, queryset, name, value):
        unit = Unit.objects.filter(pk=value).first()
        return queryset.none() if unit is None else queryset.filter(unit__path__startswith=unit.path)

    @property
    def qs(self):
        qs = super().qs
        if not self.data.get("ordering"):
            # The ledger's default order (key items first, then the next due date, empty last, then id) written as
            # its index is (handling migration 0010: every row, as the API lists withdrawn ones too), so a page
            # reads 50 index entries instead of sorting every row.
            qs = qs.order_by(*default_order(Assignment))
        return qs


class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Assignments (交办) with the ledger's filters (session, kind, unit, role, state, reply_class, is_key, overdue,
    handler, q, ordering); the assigning office assigns (a unit office hands on inside its unit)."""

    serializer_class = s.AssignmentSerializer
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ApiLedgerFilter

    def get_queryset(self):
        # The ledger's rows and filters (banli.workbench), so that the API lists what the ledger page lists.
        return ledger_assignments(self.request.user).order_by("proposal__session_id", "proposal__number", "id")

    @extend_schema(request=s.AssignmentCreateSerializer, responses={201: s.AssignmentSerializer, **ERRORS})
    def create(self, request):
        data = _valid(s.AssignmentCreateSerializer, request.data)
        proposal = access.require_proposal(request.user, data["proposal"])
        parent = access.require_assignment(request.user, data["parent"]) if data.get("parent") else None
        assignment = handling.assignment_create(
            proposal=proposal, unit=_unit(data["unit"]), role=data["role"], actor=request.user, parent=parent,
        )
        return Response(s.AssignmentSerializer(self.get_queryset().get(pk=assignment.pk)).data,
                        status=status.HTTP_201_CREATED)


class ReplyFilter(StrictFilters, django_filters.FilterSet):
    assignment = IdFilter(field_name="assignment_id")
    proposal = IdFilter(field_name="assignment__proposal_id")
    session = IdFilter(field_name="assignment__proposal__session_id")
    state = django_filters.ChoiceFilter(choices=ReplyState.choices)
    reply_class = django_filters.CharFilter()

    class Meta:
        model = Reply
        fields: list[str] = []


class ReplyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Replies: sent ones of the items the user sees; drafts only for the unit's own staff."""

    serializer_class = s.ReplySerializer
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ReplyFilter

    def get_queryset(self):
        return access.visible_replies(self.request.user).select_related("assignment").order_by("assignment_id", "round", "version")

    @extend_schema(request=s.ReplyDraftSerializer, responses={201: s.ReplySerializer, **ERRORS})
    def create(self, request):
        """Save a draft reply (a new version when the latest is no longer a draft)."""
        data = dict(_valid(s.ReplyDraftSerializer, request.data))
        assignment = access.require_assignment(request.user, data.pop("assignment"))
        reply = replies.reply_save_draft(assignment=assignment, actor=request.user, **data)
        return Response(s.ReplySerializer(reply).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"): OpenApiTypes.BINARY, **ERRORS})
    @action(detail=True, methods=["get"])
    def document(self, request, pk=None):
        """The reply letter as .docx."""
        reply = self.get_object()
        response = HttpResponse(
            reply_docx(reply), content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        )
        response["Content-Disposition"] = f'attachment; filename="reply-{reply.pk}.docx"'
        return response


class SinceField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 time, handed to the database in UTC: any offset RFC 3339 allows (up to ±23:59) is taken,
    where PostgreSQL itself refuses offsets beyond ±15:59."""

    def to_python(self, value):
        result = super().to_python(value)
        if result is None or result.tzinfo is None:
            return result
        try:
            return result.astimezone(dt.timezone.utc)
        except OverflowError as exc:
            raise forms.ValidationError("时间超出可表示的范围。", code="invalid") from exc


class SinceFilter(django_filters.IsoDateTimeFilter):
    field_class = SinceField


class EventFilter(StrictFilters, django_filters.FilterSet):
    proposal = IdFilter(field_name="proposal_id")
    assignment = IdFilter(field_name="assignment_id")
    verb = django_filters.CharFilter()
    since = SinceFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = Event
        fields: list[str] = []


class EventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The event log (timeline and audit trail) of what the user may see."""

    serializer_class = s.EventSerializer
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = EventFilter

    def get_queryset(self):
        return access.event_rows_visible_to(self.request.user).select_related("actor").order_by("created_at", "id")


class FiguresView(APIView):
    """Counts by role and state and the rates of what the user sees: percentages 0–100 (as in the score rules
    and their evidence), null when nothing to count; each rate named by its key in the score rules."""

    @extend_schema(
        parameters=[OpenApiParameter("session", POSITIVE_ID, required=False, description="届次编号（正整数）"),
                    OpenApiParameter("unit", POSITIVE_ID, required=False, description="单位编号（正整数）")],
        responses={200: s.FiguresSerializer, **error_responses(400, 401, 404)},
    )
    def get(self, request):
        params = {key: _id_param(request, key, required=False) for key in ("session", "unit")}
        require_report_slice(request.user, session_id=params["session"], unit_id=params["unit"])
        return Response(figures(request.user, session_id=params["session"], unit_id=params["unit"]))


# --- workflow actions --------------------------------------------------------------------------------
# Generated from the one registry (banli.actions.registry): its keys are the published action names.


def _created(obj) -> dict | None:
    """What an action created, as `{"type": <model>, "id": <id>}` (the reply after submit_reply, …)."""
    if obj is None or not getattr(obj, "pk", None):
        return None
    return {"type": obj._meta.model_name, "id": obj.pk}


def run_action(request, key: str, assignment_id: int, data: dict):
    """One registry action on an assignment; the one path for `/assignments/{id}/actions/<key>` and the
    collections' POST (commitments, contacts, co-opinions, feedback). An item the caller may not see is 404
    before anything else, so a guessed id reveals nothing; the service decides the rest."""
    action = ACTIONS[key]
    access.require_assignment(request.user, assignment_id)
    cleaned = dict(_valid(action.serializer, data))
    with transaction.atomic():
        assignment = access.require_assignment(request.user, assignment_id)
        return action.run(assignment, request.user, cleaned)


class ActionResultSerializer(s.AssignmentSerializer):
    created = serializers.DictField(read_only=True, allow_null=True, required=False,
                                    help_text="本次操作新建的记录：类型（如 reply、commitment）与编号")

    class Meta(s.AssignmentSerializer.Meta):
        fields = [*s.AssignmentSerializer.Meta.fields, "created"]


class AssignmentActionView(APIView):
    """Base of one workflow action on an assignment; subclasses are made per action key in `action_views()`."""

    action_key = ""

    def post(self, request, pk: int):
        # An item the caller may not see is 404 before the body is read (an unreadable body would say 415).
        access.require_assignment(request.user, pk)
        outcome = run_action(request, self.action_key, pk, request.data if isinstance(request.data, dict) else {})
        fresh = access.visible_assignments(request.user).select_related(
            "proposal", "unit", "lead_section", "handler"
        ).filter(pk=pk).first() or Assignment.objects.select_related("proposal", "unit").get(pk=pk)
        body = s.AssignmentSerializer(fresh).data
        body["created"] = _created(outcome.created)
        return Response(body)


def action_views() -> dict[str, type]:
    views = {}
    for key, spec in ACTIONS.items():
        def post(self, request, pk: int):
            return AssignmentActionView.post(self, request, pk)

        post = extend_schema(
            request=spec.serializer, responses={200: ActionResultSerializer, **ERRORS},
            summary=spec.summary, operation_id=f"assignments_action_{key}", tags=["assignments"],
        )(post)
        views[key] = type(f"Assignment_{key}_View", (AssignmentActionView,),
                          {"action_key": key, "__doc__": spec.summary, "post": post})
    return views
