"""Channels that carry a delivery out of Banli: e-mail, SMS through a pluggable gateway, group-robot webhooks.

Each sender returns a short description of what the other side answered, or raises DeliveryError; the
delivery pass records either as one attempt. SMS backends are chosen by BANLI_SMS_BACKEND:
  console — print the message (the demo), file — append a JSON line to BANLI_SMS_FILE,
  http — POST JSON to BANLI_SMS_HTTP_URL (a provider's or an in-house gateway's HTTP API).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMessage
from django.utils import timezone
from django.utils.module_loading import import_string

from banli.supervision import integration
from banli.supervision.choices import Channel, WebhookKind


class DeliveryError(Exception):
    """The channel did not accept the message; the text says why (it is shown to the office). `status` is the
    HTTP status the other side answered, when it answered one."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class Answer(str):
    """What the other side answered (the text recorded on the attempt), with its HTTP status when it has one."""

    status: int | None = None


def answer(text: str, status: int | None = None) -> Answer:
    result = Answer(text)
    result.status = status
    return result


def send(delivery) -> str:
    if delivery.channel == Channel.EMAIL:
        return send_email(delivery)
    if delivery.channel == Channel.SMS:
        return get_sms_backend().send(delivery.address, f"{delivery.subject}\n{delivery.body}")
    if delivery.channel == Channel.WEBHOOK:
        return send_webhook(delivery)
    if delivery.channel == Channel.EVENT:
        return send_event(delivery)
    raise DeliveryError(f"未知渠道 {delivery.channel}")


def send_email(delivery) -> str:
    try:
        sent = EmailMessage(delivery.subject, delivery.body, settings.DEFAULT_FROM_EMAIL, [delivery.address]).send()
    except Exception as exc:  # smtplib and socket errors of every kind
        raise DeliveryError(f"邮件发送失败：{type(exc).__name__}: {exc}") from exc
    if not sent:
        raise DeliveryError("邮件服务器未接受该邮件")
    return "邮件已提交到邮件服务器"


def post_json(url: str, payload: dict, *, headers: dict | None = None) -> tuple[int, str]:
    """POST JSON and return (status, body); network errors and non-2xx answers raise DeliveryError."""
    return post_bytes(url, json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers=headers)


def post_bytes(url: str, data: bytes, *, headers: dict | None = None) -> tuple[int, str]:
    """POST a JSON body given as bytes (signed as they are) and return (status, body)."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DeliveryError(f"推送地址必须以 http:// 或 https:// 开头：{url[:80]}")
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    )
    try:
        # The scheme was checked above: no file:// or custom schemes reach urlopen.
        with urllib.request.urlopen(request, timeout=settings.BANLI_HTTP_TIMEOUT) as response:  # nosec B310
            return response.status, response.read(20000).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code}: {exc.read(500).decode('utf-8', 'replace')}", status=exc.code) from exc
    except (urllib.error.URLError, OSError) as exc:
        raise DeliveryError(f"无法连接 {urllib.parse.urlsplit(url).netloc}：{exc}") from exc


# --- SMS -----------------------------------------------------------------------------------------


class SmsBackend:
    """The gateway interface: send one text to one mobile number, return the gateway's answer."""

    def send(self, phone: str, text: str) -> str:  # pragma: no cover - interface
        raise NotImplementedError


class ConsoleSmsBackend(SmsBackend):
    """Prints the message: the demo needs no gateway."""

    def send(self, phone: str, text: str) -> str:
        print(f"[短信] {phone}: {text}", file=sys.stdout, flush=True)
        return "已输出到控制台"


class FileSmsBackend(SmsBackend):
    """Appends one JSON line per message to a file, for the demo and for checking by hand."""

    def send(self, phone: str, text: str) -> str:
        path = Path(settings.BANLI_SMS_FILE)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"at": timezone.now().isoformat(), "phone": phone, "text": text}, ensure_ascii=False) + "\n")
        return f"已写入 {path.name}"


class HttpSmsBackend(SmsBackend):
    """A provider's HTTP API: POST {"phone", "text", "sign"} with a bearer token; {"code": 0} means accepted.

    Government intranets usually reach SMS through an in-house gateway with exactly this shape; a provider
    with another shape needs a subclass that overrides `payload` and `accepted`.
    """

    def __init__(self, url: str | None = None, token: str | None = None, sign: str | None = None):
        self.url = url or settings.BANLI_SMS_HTTP_URL
        self.token = token if token is not None else settings.BANLI_SMS_HTTP_TOKEN
        self.sign = sign if sign is not None else settings.BANLI_SMS_SIGN
        if not self.url:
            raise DeliveryError("未配置短信网关地址 BANLI_SMS_HTTP_URL")

    def payload(self, phone: str, text: str) -> dict:
        return {"phone": phone, "text": text, "sign": self.sign}

    def accepted(self, body: dict) -> bool:
        return str(body.get("code")) in {"0", "OK", "ok"}

    def send(self, phone: str, text: str) -> str:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        status, raw = post_json(self.url, self.payload(phone, text), headers=headers)
        try:
            body = json.loads(raw or "{}")
        except ValueError as exc:
            raise DeliveryError(f"短信网关返回的不是 JSON：{raw[:200]}") from exc
        if not self.accepted(body):
            raise DeliveryError(f"短信网关拒绝：{raw[:300]}")
        return f"HTTP {status} {raw[:200]}"


SMS_BACKENDS = {
    "console": ConsoleSmsBackend,
    "file": FileSmsBackend,
    "http": HttpSmsBackend,
}


def get_sms_backend() -> SmsBackend:
    name = settings.BANLI_SMS_BACKEND
    cls = SMS_BACKENDS.get(name) or import_string(name)
    return cls()


# --- group robots (企业微信 / 钉钉) ----------------------------------------------------------------


def dingtalk_signed_url(url: str, secret: str, now_ms: int | None = None) -> str:
    """DingTalk's "加签": timestamp and HMAC-SHA256 of "timestamp\\nsecret", base64, URL-encoded."""
    timestamp = str(now_ms or int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"


def send_webhook(delivery) -> str:
    hook = delivery.webhook
    url = delivery.address
    if hook is not None and hook.kind == WebhookKind.DINGTALK and hook.secret:
        url = dingtalk_signed_url(url, hook.secret)
    # Both robots take the same text message; both answer {"errcode": 0, ...} when they accept it.
    payload = {"msgtype": "text", "text": {"content": f"{delivery.subject}\n{delivery.body}"}}
    status, raw = post_json(url, payload)
    try:
        body = json.loads(raw or "{}")
    except ValueError as exc:
        raise DeliveryError(f"机器人返回的不是 JSON：{raw[:200]}") from exc
    if body.get("errcode", 0) != 0:
        raise DeliveryError(f"机器人拒绝：{raw[:300]}")
    return f"HTTP {status} {raw[:200]}"


# --- integrators' event subscriptions (出站推送) ----------------------------------------------------


def send_event(delivery) -> Answer:
    """POST one signed event document to a subscriber; any 2xx answer is accepted (see supervision.integration)."""
    subscription = delivery.subscription
    if subscription is None or not subscription.is_active:
        raise DeliveryError("该推送订阅已停用，未发送。")
    timestamp = int(time.time())
    body = integration.signed_body(delivery.body, delivery_id=delivery.dedupe_key, timestamp=timestamp)
    headers = {
        "X-Banli-Event": delivery.subject,
        "X-Banli-Delivery": delivery.dedupe_key,
        "X-Banli-Timestamp": str(timestamp),
        "X-Banli-Signature": integration.signature(subscription.secret, body),
        "User-Agent": "Banli-Webhook/1",
    }
    status, raw = post_bytes(subscription.url, body, headers=headers)
    return answer(f"HTTP {status} {raw[:200]}", status)
