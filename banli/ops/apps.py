from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "banli.ops"
    label = "ops"
    verbose_name = "运行维护"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import pre_migrate

        from banli.ops.squash import on_pre_migrate

        pre_migrate.connect(on_pre_migrate, dispatch_uid="banli.ops.squash")
