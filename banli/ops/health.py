"""Health checks for load balancers and monitoring: database, cache and broker, the periodic jobs, the calendar.

A server that cannot reach its database (or its configured Redis) cannot serve and answers 503, so the proxy
takes it out of rotation. A stopped scheduler or a missing holiday calendar is a problem of the deployment, not
of this server: the answer stays 200 with status "degraded" (taking every web server out would not help), unless
the monitor asks with ?strict=1.
"""
from __future__ import annotations

import time

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.utils import timezone

from banli.handling.holidays import uncovered_years
from banli.ops.models import Heartbeat

SERVING = ("database", "replica", "cache", "broker")


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        result = check() or {}
        ok = result.pop("ok", True)
    except Exception as exc:  # a health check reports every failure instead of raising it
        # Only the exception's type: the endpoint is public and must not show hosts or credentials.
        result, ok = {"error": type(exc).__name__}, False
    result.update(ok=ok, ms=round((time.perf_counter() - started) * 1000, 1))
    return result


def _database(alias: str):
    def check():
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    return check


def _cache():
    token = str(time.time())
    cache.set("banli:health", token, 30)
    return {"ok": cache.get("banli:health") == token}


def _broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2, socket_connect_timeout=2)
    try:
        client.ping()
    finally:
        client.close()


def _scheduler():
    last = Heartbeat.objects.order_by("-at").first()
    if last is None:
        return {"ok": False, "message": "定期任务（期限扫描、提醒发送）尚未运行过"}
    age = (timezone.now() - last.at).total_seconds()
    ok = age <= settings.BANLI_HEALTH_SCHEDULER_MAX_AGE
    result = {"ok": ok, "last_run": last.at.isoformat(), "job": last.name, "age_seconds": round(age)}
    if not ok:
        result["message"] = "定期任务已超过规定时间没有运行，请检查 Celery beat 和 worker（或内置调度）"
    return result


def _calendar():
    missing = uncovered_years(timezone.localdate())
    if missing:
        return {"ok": False, "missing_years": missing,
                "message": f"工作日历缺少{'、'.join(map(str, missing))}年的放假安排，请在“督办 → 工作日历”录入"}
    return {"year": timezone.localdate().year}


def run_checks() -> dict:
    """Every check's result and the overall status: ok, degraded (deployment problem) or fail (cannot serve)."""
    checks = {"database": _timed(_database("default"))}
    if "replica" in settings.DATABASES:
        checks["replica"] = _timed(_database("replica"))
    if settings.BANLI_CACHE_URL:
        checks["cache"] = _timed(_cache)
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://", "unix://")):
        checks["broker"] = _timed(_broker)
    if checks["database"]["ok"]:
        checks["scheduler"] = _timed(_scheduler)
        checks["calendar"] = _timed(_calendar)
    if not all(checks[name]["ok"] for name in SERVING if name in checks):
        status = "fail"
    elif not all(check["ok"] for check in checks.values()):
        status = "degraded"
    else:
        status = "ok"
    return {"status": status, "checks": checks}
