"""Structured logs: one JSON object per line, for the app's loggers and gunicorn's access log alike."""
from __future__ import annotations

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

# gunicorn passes its access-log atoms as the record's args (a dict); these become named JSON fields.
ACCESS_FIELDS = {
    "h": "remote_addr", "m": "method", "U": "path", "q": "query", "s": "status", "B": "bytes",
    "a": "user_agent", "f": "referer", "{x-forwarded-for}i": "forwarded_for", "{x-request-id}i": "request_id",
}


class JsonFormatter(_JsonFormatter):
    """time, level, logger, message; for gunicorn.access also method, path, status, duration_ms, bytes, client."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level", "name": "logger"})
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s", *args, **kwargs)

    def add_fields(self, log_record, record, message_dict):
        super().add_fields(log_record, record, message_dict)
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            atoms = record.args
            for atom, name in ACCESS_FIELDS.items():
                value = atoms.get(atom)
                if value not in (None, "", "-"):
                    log_record[name] = value
            try:
                log_record["status"] = int(atoms.get("s"))
                log_record["duration_ms"] = round(int(atoms.get("D", 0)) / 1000, 1)
            except (TypeError, ValueError):
                pass
