"""Helpers for the supervision tests: frozen local time, an item with a chosen deadline, loopback servers."""
from __future__ import annotations

import datetime as dt
import json
import socketserver
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import time_machine

from banli.core.testing import assign, make_proposal, walk_to
from banli.handling.models import Assignment

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: dt.date, hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=SHANGHAI)


@contextmanager
def frozen(day: dt.date, hour: int = 9):
    with time_machine.travel(at(day, hour), tick=False):
        yield


def give_contacts(world) -> None:
    """E-mail addresses and phones for the users the reminders go to."""
    for user, n in ((world.lead_handler, 1), (world.lead_office, 2), (world.lead_leader, 3), (world.office, 4),
                    (world.co_office, 5), (world.co_handler, 6), (world.proposer, 7)):
        user.email = f"{user.username}@example.gov.cn"
        user.phone = f"1380000000{n}"
        user.save(update_fields=["email", "phone"])


def lead_item(world, *, reply_due: dt.date, assigned: dt.date = dt.date(2025, 7, 1), **proposal_kw) -> Assignment:
    """A lead assignment in progress (signed, section and handler chosen) with the given reply deadline."""
    proposal = make_proposal(world, **proposal_kw)
    lead, _ = assign(world, proposal, co=False, now=at(assigned))
    lead = walk_to(world, lead, "in_progress", now=at(assigned))
    Assignment.objects.filter(pk=lead.pk).update(reply_due=reply_due)
    lead.refresh_from_db()
    return lead


class LoopbackHTTP:
    """An HTTP server on 127.0.0.1 that answers POSTs with a script: fail the first `fail_first` requests
    (HTTP 500), or every request with `always_fail`; otherwise answer `ok_body`."""

    def __init__(self, *, fail_first: int = 0, always_fail: bool = False, ok_body: dict | None = None):
        self.fail_first = fail_first
        self.always_fail = always_fail
        self.ok_body = ok_body if ok_body is not None else {"code": 0, "errcode": 0, "errmsg": "ok"}
        self.requests: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                body = json.loads(raw or b"{}")
                outer.requests.append({"path": self.path, "headers": dict(self.headers), "json": body, "raw": raw})
                n = len(outer.requests)
                if outer.always_fail or n <= outer.fail_first:
                    self.send_response(500)
                    payload = b'{"errcode": 500, "errmsg": "server busy"}'
                else:
                    self.send_response(200)
                    payload = json.dumps(outer.ok_body).encode()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class LoopbackSMTP:
    """A minimal SMTP server (standard library only) on 127.0.0.1 that keeps every message it receives."""

    def __init__(self):
        self.messages: list[dict] = []
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                def say(text: str) -> None:
                    self.wfile.write(text.encode() + b"\r\n")

                say("220 loopback ESMTP")
                envelope = {"from": None, "to": [], "data": b""}
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    verb = line[:4].upper()
                    if verb == b"EHLO":
                        say("250-loopback")
                        say("250 8BITMIME")
                    elif verb == b"HELO":
                        say("250 loopback")
                    elif verb == b"MAIL":
                        envelope = {"from": line[10:].strip().decode(), "to": [], "data": b""}
                        say("250 OK")
                    elif verb == b"RCPT":
                        envelope["to"].append(line[8:].strip().decode())
                        say("250 OK")
                    elif verb == b"DATA":
                        say("354 End data with <CR><LF>.<CR><LF>")
                        chunks = []
                        while True:
                            data_line = self.rfile.readline()
                            if data_line in (b".\r\n", b".\n", b""):
                                break
                            chunks.append(data_line[1:] if data_line.startswith(b"..") else data_line)
                        envelope["data"] = b"".join(chunks)
                        outer.messages.append(envelope)
                        say("250 OK queued")
                    elif verb == b"QUIT":
                        say("221 Bye")
                        return
                    else:
                        say("250 OK")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
