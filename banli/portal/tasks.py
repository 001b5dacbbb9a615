"""公开门户: background job that publishes sent, disclosed replies the commit hook missed (idempotent)."""
from celery import shared_task

from banli.portal.services import publish_pending


@shared_task(name="banli.portal.tasks.publish_pending_task")
def publish_pending_task() -> int:
    return publish_pending()
