"""公开门户: background job that publishes sent, disclosed replies the commit hook missed (idempotent)."""
from celery import shared_task


@shared_task(name="banli.portal.tasks.publish_pending_task")
def publish_pending_task() -> int:
    from banli.portal.services import publish_pending

    return publish_pending()
