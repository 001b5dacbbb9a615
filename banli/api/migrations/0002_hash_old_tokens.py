"""Tokens issued before (DRF's authtoken table, keys in plain text, no expiry) become hashed read-write tokens that
expire after BANLI_API_TOKEN_DAYS, so integrations keep working; the plain keys are then deleted."""
import datetime as dt
import hashlib

from django.conf import settings
from django.db import migrations
from django.utils import timezone


def hash_old_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if "authtoken_token" not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("api", "ApiToken")
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("SELECT key, user_id FROM authtoken_token")
        rows = cursor.fetchall()
        for key, user_id in rows:
            ApiToken.objects.create(user_id=user_id, name="旧令牌（升级时转换）", prefix=key[:12],
                                    digest=hashlib.sha256(key.encode("utf-8")).hexdigest(), scope="write",
                                    created_at=now, expires_at=now + dt.timedelta(days=settings.BANLI_API_TOKEN_DAYS))
        cursor.execute("DELETE FROM authtoken_token")


class Migration(migrations.Migration):
    dependencies = [("api", "0001_api_token")]
    operations = [migrations.RunPython(hash_old_tokens, migrations.RunPython.noop)]
