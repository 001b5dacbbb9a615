from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "banli.core"
    verbose_name = "公共"

    def ready(self):
        from banli.core import security  # noqa: F401  (connects the security-event signal receivers)
