"""Errors as JSON: `{"code": <machine code>, "message": <Chinese message>, "field"?: ..., "errors"?: {...}}`."""
from __future__ import annotations

from django.db import IntegrityError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from banli.api.auth import PASSWORD_CHANGE_MESSAGE
from banli.api.serializers import ErrorSerializer
from banli.core.errors import DUPLICATE_MESSAGE, ConflictError, DomainError, NotFound, PermissionDenied

_DRF_MESSAGES = {
    "not_authenticated": "请先登录或在请求头中提供令牌（Authorization: Bearer <令牌>）。",
    "authentication_failed": "身份验证失败。",
    "permission_denied": "您没有权限执行此操作。",
    "not_found": "找不到该记录，或您没有查看权限。",
    "method_not_allowed": "不支持该请求方法。",
    "unsupported_media_type": "不支持该请求的数据格式，请使用 JSON。",
    "parse_error": "请求数据不是有效的 JSON。",
    "not_acceptable": "无法按请求的格式返回数据。",
    "throttled": "请求过于频繁，请稍后再试。",
    "password_change_required": PASSWORD_CHANGE_MESSAGE,
}


def _flatten(detail, prefix="") -> list[str]:
    if isinstance(detail, dict):
        out = []
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            out += _flatten(value, f"{prefix}{name}" if not prefix else f"{prefix}.{name}")
        return out
    if isinstance(detail, list):
        out = []
        for item in detail:
            out += _flatten(item, prefix)
        return out
    return [f"{prefix}：{detail}" if prefix else str(detail)]


ERROR_DESCRIPTIONS = {
    400: "请求数据有误", 401: "未登录", 403: "无权执行", 404: "找不到或无权查看", 409: "已被他人处理，或与现有记录冲突",
    429: "请求过于频繁",
}


def error_responses(*codes: int) -> dict:
    """OpenAPI responses for the error codes an operation may answer, all with the one error body."""

    return {code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]) for code in codes}


def error_body(code: str, message: str, **extra) -> dict:
    body = {"code": code, "message": message}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def exception_handler(exc, context):
    """Map domain errors and DRF errors to one JSON shape with a stable code and a Chinese message."""
    if isinstance(exc, IntegrityError):
        # A constraint no service translated yet: still a lost race or a duplicate, never a 500.
        set_rollback()
        return Response(error_body("conflict", DUPLICATE_MESSAGE), status=status.HTTP_409_CONFLICT)
    if isinstance(exc, NotFound) or isinstance(exc, Http404):
        message = exc.message if isinstance(exc, NotFound) else _DRF_MESSAGES["not_found"]
        field = exc.field if isinstance(exc, NotFound) else None
        return Response(error_body("not_found", message, field=field), status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        return Response(error_body("permission_denied", exc.message), status=status.HTTP_403_FORBIDDEN)
    if isinstance(exc, ConflictError):
        return Response(error_body(getattr(exc, "code", None) or "conflict", exc.message, field=exc.field),
                        status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DomainError):
        return Response(error_body("invalid", exc.message, field=exc.field), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ValidationError):
        lines = _flatten(exc.detail)
        return Response(
            error_body("invalid", "请求数据有误：" + "；".join(lines), errors=exc.detail),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, exceptions.APIException):
        code = exc.default_code if isinstance(exc.default_code, str) else "error"
        detail = exc.detail if isinstance(exc.detail, str) else None
        message = _DRF_MESSAGES.get(code) or detail or str(exc)
        if code in ("authentication_failed",) and detail:
            message = str(detail)
        response = Response(error_body(code, message), status=exc.status_code)
        if getattr(exc, "auth_header", None):
            response["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(int(exc.wait))
        return response
    return None
