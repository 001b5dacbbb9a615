"""Integrators' event subscriptions (出站推送) on the API: an assigning office (or the administrator) subscribes
a URL to event verbs and reads each subscription's delivery log. The pushes themselves are described in
banli.supervision.integration (signed JSON, retried by the delivery pass)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from banli.api.errors import error_responses
from banli.api.views import Pagination, _valid
from banli.core import access
from banli.core.errors import NotFound, PermissionDenied
from banli.organizations.models import Unit
from banli.supervision import services
from banli.supervision.integration import subscribable_verbs
from banli.supervision.models import Delivery, EventSubscription


# What the service accepts, said in the schema too: an http(s) address with a host, an optional port and path.
URL_PATTERN = r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?$"


@extend_schema_field({"type": "string", "pattern": URL_PATTERN, "maxLength": 500, "description": "http:// 或 https:// 地址"})
class HttpUrlField(serializers.RegexField):
    """An http(s) address, checked by the same pattern the schema states."""


def _url_field(**kwargs):
    return HttpUrlField(URL_PATTERN, max_length=500, help_text="http:// 或 https:// 地址",
                        error_messages={"invalid": "推送地址必须是 http:// 或 https:// 开头的地址。"}, **kwargs)


def _verb_field(**kwargs):
    return serializers.ListField(child=serializers.ChoiceField(choices=sorted(subscribable_verbs())), **kwargs)


class SubscriptionSerializer(serializers.ModelSerializer):
    class Meta:
        model = EventSubscription
        fields = ["id", "office", "name", "url", "verbs", "is_active", "created_at"]
        read_only_fields = fields


class SubscriptionCreatedSerializer(SubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text="签名密钥，只显示这一次")

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class SubscriptionCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    url = _url_field()
    verbs = _verb_field(min_length=1, max_length=60, help_text="订阅的事件（事件日志的 verb）")
    office = serializers.IntegerField(required=False, allow_null=True, min_value=1,
                                      help_text="交办机构编号；留空：本人唯一的交办机构，系统管理员为全部事项")
    secret = serializers.CharField(required=False, allow_blank=True, max_length=200, min_length=16, trim_whitespace=False,
                                   help_text="签名密钥（至少 16 个字符）；留空由系统生成")


class SubscriptionUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    url = _url_field(required=False)
    verbs = _verb_field(min_length=1, max_length=60, required=False)
    is_active = serializers.BooleanField(required=False)
    new_secret = serializers.BooleanField(required=False, help_text="true：生成新的签名密钥（只在本次回应中显示）")


class SubscriptionDeliverySerializer(serializers.ModelSerializer):
    verb = serializers.CharField(source="subject", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "event", "verb", "state", "state_label", "attempts", "max_attempts", "response_code",
                  "last_error", "next_attempt_at", "sent_at", "created_at"]
        read_only_fields = fields


def _pk(pk) -> int:
    """The id in the path: digits only (the schema says integer), anything else is not found."""
    if not (isinstance(pk, int) or (str(pk).isascii() and str(pk).isdigit())):
        raise NotFound("找不到该推送订阅。")
    return int(pk)


def _office_for(user, office_id):
    """The office a new subscription belongs to: the one named, or the caller's only one (None: the admin's)."""
    if office_id is not None:
        office = Unit.objects.filter(pk=office_id).first()
        if office is None:
            raise NotFound(f"找不到编号为 {office_id} 的单位。", field="office")
        if not access.may_subscribe_for(user, office):
            raise PermissionDenied(f"不能为「{office}」设置事件推送。")
        return office
    choices = access.subscription_offices(user)
    if not choices:
        raise PermissionDenied("只有交办机构或系统管理员可以设置事件推送。")
    return choices[0]


class SubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Event subscriptions of the caller's offices (all of them for the administrator)."""

    serializer_class = SubscriptionSerializer
    pagination_class = Pagination

    def get_queryset(self):
        return access.visible_subscriptions(self.request.user).order_by("-created_at", "-id")

    @extend_schema(request=SubscriptionCreateSerializer,
                   responses={201: SubscriptionCreatedSerializer, **error_responses(400, 401, 403)})
    def create(self, request):
        if not access.can_manage_subscriptions(request.user):
            raise PermissionDenied("只有交办机构或系统管理员可以设置事件推送。")
        data = _valid(SubscriptionCreateSerializer, request.data)
        subscription, secret = services.subscription_create(
            actor=request.user, office=_office_for(request.user, data.get("office")), name=data["name"],
            url=data["url"], verbs=data["verbs"], secret=data.get("secret") or "",
        )
        body = SubscriptionSerializer(subscription).data
        body["secret"] = secret
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=SubscriptionUpdateSerializer,
                   responses={200: SubscriptionCreatedSerializer, **error_responses(400, 401, 403, 404)})
    def partial_update(self, request, pk=None):
        subscription = access.require_subscription(request.user, _pk(pk))
        data = _valid(SubscriptionUpdateSerializer, request.data)
        subscription, secret = services.subscription_update(
            subscription=subscription, actor=request.user, name=data.get("name"), url=data.get("url"),
            verbs=data.get("verbs"), is_active=data.get("is_active"), new_secret=bool(data.get("new_secret")),
        )
        body = SubscriptionSerializer(subscription).data
        body["secret"] = secret
        return Response(body)

    @extend_schema(responses={200: SubscriptionDeliverySerializer(many=True), **error_responses(400, 401, 404)})
    @action(detail=True, methods=["get"], pagination_class=Pagination)
    def deliveries(self, request, pk=None):
        """The delivery log of one subscription: each event pushed, its state, tries, last answer and error."""
        subscription = access.require_subscription(request.user, _pk(pk))
        rows = Delivery.objects.filter(subscription=subscription).order_by("-created_at", "-id")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(SubscriptionDeliverySerializer(page, many=True).data)
