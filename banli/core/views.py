"""Health check and the proposer's copy of his own data."""
import json

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse, JsonResponse

from banli.core import pii


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
