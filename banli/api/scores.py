"""统计与考核: the score endpoint of the REST API (/api/v1/scores)."""
from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from banli.api.schema import POSITIVE_ID
from banli.api.errors import error_responses
from banli.core.errors import ConflictError, DomainError
from banli.reports import scoring
from banli.reports.selectors import require_report_slice

class ScoreLineSerializer(serializers.Serializer):
    item = serializers.CharField()
    points = serializers.FloatField()
    evidence = serializers.CharField()
    kind = serializers.CharField()
    figure = serializers.CharField()


def _id_param(request, name: str, *, required: bool) -> int | None:
    """A positive integer id from the query string; DomainError naming the parameter otherwise."""
    raw = request.query_params.get(name, "")
    if raw == "" and not required:
        return None
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) < 2**63:
        raise DomainError(f"请提供参数 {name}（正整数编号）。", field=name)
    return int(raw)


class ScoreView(APIView):
    """A unit's evaluation score for a session: total and every line with its evidence."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("session", POSITIVE_ID, required=True, description="届次编号（正整数）"),
                    OpenApiParameter("unit", POSITIVE_ID, required=True, description="单位编号（正整数）")],
        responses={200: inline_serializer("Score", {"total": serializers.FloatField(),
                                                    "lines": ScoreLineSerializer(many=True)}),
                   **error_responses(400, 401, 404, 409)},
        summary="单位考核得分",
    )
    def get(self, request):
        ids = {name: _id_param(request, name, required=True) for name in ("session", "unit")}
        session, unit = require_report_slice(request.user, session_id=ids["session"], unit_id=ids["unit"])
        try:
            result = scoring.score(session, unit, with_items=False)  # the lines' items are not part of the answer
        except DomainError as exc:
            # No rule set yet: the request is right, the configuration is missing.
            conflict = ConflictError(exc.message)
            conflict.code = "no_rule_set"
            raise conflict from exc
        data = result.as_dict()
        for line in data["lines"]:
            line.pop("proposals", None)
        data.update(session=session.pk, unit=unit.pk, rule_set=result.rule_set.name,
                    subtotal=float(result.subtotal), cap=float(result.cap))
        return Response(data)
