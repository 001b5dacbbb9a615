"""Reply pages: drafting with the co-opinions, review, documents, the proposer's copy and rating, commitments."""
from __future__ import annotations

from functools import wraps
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from banli.core import access
from banli.core.errors import NotFound, PermissionDenied
from banli.replies import letters, selectors, services
from banli.replies.choices import DocumentKind

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def domain_view(view):
    """NotFound is a 404 and PermissionDenied a 403, so a URL never tells an outsider what exists."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(str(exc)) from exc
        except PermissionDenied as exc:
            return HttpResponseForbidden(str(exc))

    return login_required(wrapper)


def docx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=DOCX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return response


@domain_view
def reply_docx(request, reply_id: int):
    """The reply letter as .docx (a signed-off version: the frozen document)."""
    reply = access.require_reply(request.user, reply_id)
    return docx_response(letters.reply_docx(reply), letters.reply_filename(reply))


@domain_view
def co_opinion_docx(request, opinion_id: int):
    opinion = access.require_co_opinion(request.user, opinion_id)
    return docx_response(letters.co_opinion_docx(opinion), letters.co_opinion_filename(opinion))


@domain_view
@require_http_methods(["GET", "POST"])
def templates(request):
    """The office's document templates: download the default, upload an edited one per unit and kind."""
    units = selectors.template_units(request.user)
    if not units and not access.has_role(request.user, "assigning_office") and not access.has_role(request.user, "admin"):
        raise PermissionDenied("只有单位联络员或交办机构可以维护文书模板。")
    error = ""
    if request.method == "POST":
        unit_id = request.POST.get("unit") or None
        unit = next((u for u in units if str(u.pk) == unit_id), None) if unit_id else None
        if unit_id and unit is None:
            raise NotFound("找不到该单位。")
        try:
            services.document_template_upload(unit=unit, kind=request.POST.get("kind", ""),
                                              file=request.FILES.get("file"), actor=request.user)
            return redirect("replies:templates")
        except PermissionDenied:
            raise
        except services.DomainError as exc:
            error = str(exc)
    return render(request, "replies/templates.html", {
        "units": units, "kinds": DocumentKind.choices, "error": error,
        "uploaded": selectors.document_templates(request.user),
    })


@domain_view
def default_template(request, kind: str):
    from banli.replies.documents import default_template_bytes

    if kind not in DocumentKind.values:
        raise Http404("没有该类型的模板。")
    return docx_response(default_template_bytes(kind), f"{DocumentKind(kind).label}模板.docx")
