"""Structured logs: JSON lines for the app and gunicorn's access log."""
import json
import logging

from banli.ops.logs import JsonFormatter


def test_access_log_record_becomes_json_with_named_fields():
    atoms = {"h": "10.1.2.3", "m": "GET", "U": "/ledger/", "q": "page=2", "s": "200", "B": "1024", "D": "153000",
             "a": "Mozilla", "f": "-", "{x-forwarded-for}i": "-", "{x-request-id}i": "abc"}
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, '%(h)s "%(m)s %(U)s" %(s)s', atoms, None)
    line = json.loads(JsonFormatter().format(record))
    assert line["logger"] == "gunicorn.access" and line["level"] == "INFO"
    assert (line["method"], line["path"], line["query"], line["status"], line["duration_ms"]) == \
        ("GET", "/ledger/", "page=2", 200, 153.0)
    assert line["request_id"] == "abc" and "referer" not in line


def test_app_log_record_keeps_chinese_readable():
    record = logging.LogRecord("banli", logging.WARNING, __file__, 1, "调度任务出错：%s", ("超时",), None)
    raw = JsonFormatter().format(record)
    assert "调度任务出错：超时" in raw and json.loads(raw)["level"] == "WARNING"
