"""Health check and the proposer's copy of his own data."""
import json
import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.http import require_GET, require_POST

from banli.core import access, pii


@login_required
def my_data(request):
    """Download everything Banli holds about the signed-in user as JSON (PIPL right of access and copy)."""
    data = pii.proposer_data_export(request.user)
    response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="banli-my-data.json"'
    response.banli_export = {"what": "my_data", "pii": "own"}  # logged as an export by SecurityEventMiddleware
    return response


def _signer(request, proposal_id: int, proposer_id: int):
    """A proposer of a proposal the user sees; 404 for anything else (never reveal who signed what)."""
    proposal = access.require_proposal(request.user, proposal_id)
    link = proposal.proposer_links.select_related("proposer").filter(proposer_id=proposer_id).first()
    if link is None:
        raise Http404("找不到该提案人。")
    return proposal, link.proposer


def _contact(request, proposal, proposer, shown: dict):
    fields = [(key, label, shown.get(key) or pii.masked(proposer, key), key in shown)
              for key, label in pii.PII_FIELDS.items() if getattr(proposer, key)]
    return render(request, "core/_proposer_contact.html", {
        "proposal": proposal, "proposer": proposer, "fields": fields,
        "may_reveal": pii.may_see_full(request.user, proposer),
    })


@login_required
@require_GET
def proposer_contact(request, proposal_id: int, proposer_id: int):
    """A proposer's phone, ID number and address, masked (138****0000) for everyone who sees the item."""
    proposal, proposer = _signer(request, proposal_id, proposer_id)
    return _contact(request, proposal, proposer, {})


@login_required
@require_POST
def proposer_contact_reveal(request, proposal_id: int, proposer_id: int, field: str):
    """One value in full, for the roles that need it (the office, the handling units, the proposer himself); logged."""
    proposal, proposer = _signer(request, proposal_id, proposer_id)
    if field not in pii.PII_FIELDS:
        raise Http404("没有该项信息。")
    value = pii.reveal(request.user, proposer, field)
    return _contact(request, proposal, proposer, {field: value})


# Error pages. Django's own say "403 Forbidden" / "Not Found" in English and drop the reason; these say in
# Chinese what happened and what to do. A reason is shown only when it is one of ours (Chinese): Django's
# generic messages ("No Proposal matches the given query.") and resolver internals are not for users.
_CJK = re.compile(r"[\u4e00-\u9fff]")


def _reason(exception, fallback: str) -> str:
    message = exception.args[0] if exception is not None and getattr(exception, "args", None) else ""
    return message if isinstance(message, str) and _CJK.search(message) else fallback


def error_page(request, status: int, **context):
    return render(request, "errors/_page.html", {"status": status, **context}, status=status)


def _api_error(request, status: int, code: str, message: str):
    """The API's one error body for what Django answers before DRF sees the request (an unknown path, a
    non-integer id, a server error): integrators get JSON, never the HTML page."""
    if not request.path.startswith("/api/"):
        return None
    return JsonResponse({"code": code, "message": message}, status=status, json_dumps_params={"ensure_ascii": False})


def permission_denied(request, exception=None):
    api = _api_error(request, 403, "permission_denied", "您没有权限执行此操作。")
    if api is not None:
        return api
    return error_page(
        request, 403, heading="无权进行此操作",
        reason=_reason(exception, "您当前的身份不能打开这个页面或进行这项操作。"),
        hint="如果您有多个身份（如既是联络员又是承办人），请在右上角切换身份后再试；仍有疑问请联系本单位联络员或交办机构。",
    )


def page_not_found(request, exception=None):
    api = _api_error(request, 404, "not_found", "找不到该记录或接口，或您没有查看权限；编号应为正整数。")
    if api is not None:
        return api
    return error_page(
        request, 404, heading="找不到该页面",
        reason=_reason(exception, "您要找的事项或页面不存在，可能已被撤回、并案或地址有误。"),
        hint="请从工作台或台账重新进入；若是从通知、邮件或短信中的链接打开的，该事项可能已改由其他单位办理。",
    )


def bad_request(request, exception=None):
    api = _api_error(request, 400, "invalid", "请求有误，无法识别。")
    if api is not None:
        return api
    return error_page(request, 400, heading="请求有误", reason="提交的内容无法识别。",
                       hint="请返回上一页，刷新后重新填写提交。")


def server_error(request):
    # Standalone page: no database, no session, no context processors (they may be what failed).
    api = _api_error(request, 500, "server_error", "服务器内部错误，已记录，请稍后再试或联系系统管理员。")
    if api is not None:
        return api

    return HttpResponse(loader.get_template("500.html").render(), status=500)


def csrf_failure(request, reason=""):
    """A form sent from a page opened too long ago, or after signing in again elsewhere: say so, keep nothing."""
    back = request.META.get("HTTP_REFERER") or ""
    same_site = back.startswith(f"{request.scheme}://{request.get_host()}/")
    return error_page(
        request, 403, heading="页面已过期，本次提交没有保存",
        reason="这张表单打开的时间太久，或您已在别处重新登录，系统为安全起见没有接受这次提交。",
        hint="请刷新页面，重新填写后再提交。填写较长内容（如答复正文）时，可先复制保存再刷新。",
        retry_url=back if same_site else "",
    )
