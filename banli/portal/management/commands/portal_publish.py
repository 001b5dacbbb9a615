"""Publish every sent, disclosed reply not yet on the public portal (idempotent catch-up)."""
from django.core.management.base import BaseCommand

from banli.portal.services import publish_pending


class Command(BaseCommand):
    help = "将已答复且可公开的答复发布到公开门户（可重复运行）"

    def handle(self, *args, **options):
        self.stdout.write(f"已发布 {publish_pending()} 件答复")
