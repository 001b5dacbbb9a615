"""统计与考核: the score endpoint of the REST API (mounted at /api/v1/scores by banli/api/urls.py)."""
from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from banli.core.access import can_view_unit_report
from banli.core.errors import DomainError
from banli.reports import scoring, selectors

class ScoreLineSerializer(serializers.Serializer):
    item = serializers.CharField()
    points = serializers.FloatField()
    evidence = serializers.CharField()
    kind = serializers.CharField()
    figure = serializers.CharField()


class ScoreView(APIView):
    """A unit's evaluation score for a session: total and every line with its evidence."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("session", OpenApiTypes.INT, required=True, description="届次编号"),
                    OpenApiParameter("unit", OpenApiTypes.INT, required=True, description="单位编号")],
        responses={200: inline_serializer("Score", {"total": serializers.FloatField(),
                                                    "lines": ScoreLineSerializer(many=True)})},
        summary="单位考核得分",
    )
    def get(self, request):
        from banli.organizations.models import Unit

        ids = {}
        for name in ("session", "unit"):
            raw = request.query_params.get(name, "")
            if not raw.isdigit():
                return Response({"detail": f"请提供参数 {name}（数字编号）。", "field": name},
                                status=status.HTTP_400_BAD_REQUEST)
            ids[name] = int(raw)
        session = selectors.report_sessions(request.user).filter(pk=ids["session"]).first()
        unit = Unit.objects.filter(pk=ids["unit"]).first()
        if session is None or unit is None or not can_view_unit_report(request.user, unit):
            return Response({"detail": "找不到该届次或单位，或您没有查看其考核得分的权限。"}, status=status.HTTP_404_NOT_FOUND)
        try:
            result = scoring.score(session, unit)
        except DomainError as exc:
            return Response({"detail": exc.message}, status=status.HTTP_409_CONFLICT)
        data = result.as_dict()
        for line in data["lines"]:
            line.pop("proposals", None)
        data.update(session=session.pk, unit=unit.pk, rule_set=result.rule_set.name,
                    subtotal=float(result.subtotal), cap=float(result.cap))
        return Response(data)
