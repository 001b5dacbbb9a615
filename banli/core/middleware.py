"""Domain errors translated once for the pages (the API has its own handler in banli/api/errors.py).

A view lets `NotFound`, `PermissionDenied`, `ConflictError` or `DomainError` rise; this middleware answers
with the Chinese 404 / 403 / 409 page, or, for a form that was posted, with the message on the page the
user came from (post/redirect/get), so nothing he typed elsewhere is lost and no view writes its own except.
"""
from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme

from banli.core.errors import ConflictError, DomainError, NotFound, PermissionDenied
from banli.core.views import error_page


def _back(request) -> str:
    """Where a failed form returns: the page it was posted from when it is ours, else the same URL."""
    referer = request.META.get("HTTP_REFERER") or ""
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()},
                                                   require_https=request.is_secure()):
        return referer
    return request.get_full_path()


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        message = exception.message
        if isinstance(exception, NotFound):
            return error_page(request, 404, heading="找不到该页面", reason=message,
                              hint="请从工作台或台账重新进入；该事项可能已被撤回、并案或改由其他单位办理。")
        if isinstance(exception, PermissionDenied):
            return error_page(request, 403, heading="无权进行此操作", reason=message,
                              hint="如果您有多个身份，请在右上角切换身份后再试；仍有疑问请联系本单位联络员或交办机构。")
        if getattr(request, "htmx", False):
            # htmx swaps only 2xx answers by default; the fragment carries the message itself.
            response = HttpResponse(f'<div class="alert alert-danger" role="alert">{escape(message)}</div>',
                                    status=409 if isinstance(exception, ConflictError) else 400)
            response["HX-Retarget"] = "#messages"
            response["HX-Reswap"] = "innerHTML"
            return response
        if request.method == "POST":
            messages.error(request, message)
            return redirect(_back(request))
        if isinstance(exception, ConflictError):
            return error_page(request, 409, heading="该事项已被他人处理", reason=message, hint="请刷新页面后再试。")
        return error_page(request, 400, heading="请求有误", reason=message, hint="请按提示修改后重试。")

