from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "banli.ops"
    label = "ops"
    verbose_name = "运行维护"
    default_auto_field = "django.db.models.BigAutoField"
