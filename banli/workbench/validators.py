"""Password rules beyond Django's own: mixed character classes, and no demo password outside the demo."""
from __future__ import annotations

import string

from django.conf import settings
from django.core.exceptions import ValidationError

# Passwords printed in the README, the demo loader and the tests: anyone may know them.
KNOWN_DEMO_PASSWORDS = {
    "banli-test-2026!",
    "banli-demo-2026!",
    "banli-demo",
    "banli2026",
    "demo",
    "password",
}


class ComplexityValidator:
    """At least three of: lower-case letters, upper-case letters, digits, symbols."""

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        classes = [
            any(c in string.ascii_lowercase for c in password),
            any(c in string.ascii_uppercase for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < self.min_classes:
            raise ValidationError(
                "密码须至少包含小写字母、大写字母、数字、符号中的三类。", code="password_too_simple"
            )

    def get_help_text(self):
        return "密码须至少包含小写字母、大写字母、数字、符号中的三类。"


class DemoPasswordValidator:
    """The demo accounts' passwords are public: refuse them unless this instance runs as the demo."""

    def validate(self, password, user=None):
        if getattr(settings, "DEMO_MODE", False):
            return
        extra = {p.lower() for p in getattr(settings, "BANLI_DEMO_PASSWORDS", [])}
        if password.lower() in KNOWN_DEMO_PASSWORDS | extra:
            raise ValidationError("这是公开的演示密码，正式环境不能使用，请另设密码。", code="password_demo")

    def get_help_text(self):
        return "不能使用演示环境的公开密码。"
