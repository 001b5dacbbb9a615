"""运行维护: the health endpoint (JSON, no sign-in, no session)."""
from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from banli.ops.health import run_checks


@never_cache
@require_GET
def healthz(request):
    result = run_checks()
    strict = request.GET.get("strict") in ("1", "true", "yes")
    failed = result["status"] == "fail" or (strict and result["status"] != "ok")
    return JsonResponse(result, status=503 if failed else 200, json_dumps_params={"ensure_ascii": False})


@never_cache
@require_GET
def livez(request):
    """Liveness: the process answers, nothing else is checked (a restart decision, and the load test's floor)."""
    return JsonResponse({"status": "alive"})
