"""Health check and the proposer's copy of his own data."""
import json

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from banli.core import access, pii
from banli.core.errors import NotFound, PermissionDenied


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


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
    try:
        proposal = access.require_proposal(request.user, proposal_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
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
    try:
        value = pii.reveal(request.user, proposer, field)
    except PermissionDenied as exc:
        return HttpResponseForbidden(str(exc))
    return _contact(request, proposal, proposer, {field: value})
